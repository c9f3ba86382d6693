/* Signal programs for the emulated machine, compared with the native run of the same binary.
   Usage: signals MODE; every mode prints what the handlers saw, deterministically. The "frame" modes print the
   bytes of siginfo and the ucontext's general registers the handler receives (lockstep with the native run). */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

static sigjmp_buf env;
static volatile int hits;

static void on_segv_jump(int sig) { hits++; siglongjmp(env, sig); }

static int segv_longjmp(void) {
  struct sigaction sa = {0};
  sa.sa_handler = on_segv_jump;
  sigaction(SIGSEGV, &sa, 0);
  for (int i = 0; i < 3; i++) {
    int r = sigsetjmp(env, 1);
    if (r == 0) { *(volatile int *)(uintptr_t)(0x1000 + i * 8) = 1; puts("not reached"); }
    else printf("recovered %d from signal %d\n", i, r);
  }
  sigset_t cur; sigprocmask(SIG_BLOCK, 0, &cur);
  printf("hits %d, SIGSEGV blocked after siglongjmp: %d\n", hits, sigismember(&cur, SIGSEGV));
  return 0;
}

/* The faulting instructions and the addresses after them. */
extern char fault_store[], fault_store_end[], fault_ud[], fault_ud_end[], fault_div[], fault_div_end[];
__asm__(".text\n"
        "store_fn: .globl store_fn\n"
        "fault_store: movl $7, (%rdi)\n"
        "fault_store_end: ret\n"
        "ud_fn: .globl ud_fn\n"
        "fault_ud: ud2\n"
        "fault_ud_end: ret\n"
        "div_fn: .globl div_fn\n"
        "mov %edi, %eax\n xor %edx, %edx\n xor %ecx, %ecx\n"
        "fault_div: divl %ecx\n"
        "fault_div_end: ret\n");
void store_fn(volatile int *p);
void ud_fn(void);
int div_fn(int);

static void dump(const char *what, const void *p, size_t n) {
  const unsigned char *b = p;
  printf("%s", what);
  for (size_t i = 0; i < n; i++) printf("%s%02x", i % 32 == 0 ? "\n  " : "", b[i]);
  printf("\n");
}

static void print_frame(int sig, siginfo_t *si, ucontext_t *uc) {
  printf("signal %d code %d errno %d addr %p\n", si->si_signo, si->si_code, si->si_errno, si->si_addr);
  dump("siginfo", si, sizeof *si);
  greg_t *g = uc->uc_mcontext.gregs;
  static const char *names[] = {"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rdi", "rsi", "rbp", "rbx",
    "rdx", "rax", "rcx", "rsp", "rip", "efl", "csgsfs", "err", "trapno", "oldmask", "cr2"};
  for (int i = 0; i < NGREG; i++) printf("%s=%llx%s", names[i], (unsigned long long)g[i], i % 6 == 5 ? "\n" : " ");
  printf("\nuc_flags=%lx uc_link=%p ss_sp=%p ss_flags=%d ss_size=%zu sigmask=%llx\n", uc->uc_flags, (void *)uc->uc_link,
    uc->uc_stack.ss_sp, uc->uc_stack.ss_flags, uc->uc_stack.ss_size, (unsigned long long)*(uint64_t *)&uc->uc_sigmask);
  (void)sig;
}

static void on_fault_skip(int sig, siginfo_t *si, void *ucv) {
  ucontext_t *uc = ucv;
  print_frame(sig, si, uc);
  greg_t *rip = &uc->uc_mcontext.gregs[REG_RIP];
  if ((char *)*rip == fault_store) *rip = (greg_t)fault_store_end;
  else if ((char *)*rip == fault_ud) *rip = (greg_t)fault_ud_end;
  else if ((char *)*rip == fault_div) *rip = (greg_t)fault_div_end;
  else { printf("unexpected rip %llx\n", (unsigned long long)*rip); _exit(3); }
  uc->uc_mcontext.gregs[REG_RAX] = 0x5151; /* the handler's change is seen after sigreturn */
}

static int skip(void) {
  struct sigaction sa = {0};
  sa.sa_sigaction = on_fault_skip;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, 0);
  sigaction(SIGILL, &sa, 0);
  store_fn((volatile int *)(uintptr_t)0x4321);
  puts("after the store");
  ud_fn();
  puts("after ud2");
  sigaction(SIGFPE, &sa, 0);
  printf("after the division: %d\n", div_fn(7)); /* the handler set RAX */
  store_fn((volatile int *)(uintptr_t)0x8000000000000000ull); /* non-canonical: #GP, SIGSEGV with SI_KERNEL */
  puts("after the #GP");
  store_fn((volatile int *)(uintptr_t)&skip); /* read-only text: SEGV_ACCERR */
  puts("after the write to text");
  return 0;
}

static void on_usr(int sig, siginfo_t *si, void *ucv) {
  ucontext_t *uc = ucv;
  /* the frame's shape: ucontext at frame + 8 with frame = 8 mod 16 (RSP - 8 aligned at entry), siginfo 304 bytes
     after the ucontext, the FPU area 64-byte aligned above both */
  printf("handler %d code %d: uc%%16=%d info-uc=%d fpstate%%64=%d fpstate above %d\n", sig, si->si_code,
    (int)((uintptr_t)uc % 16), (int)((char *)si - (char *)uc), (int)((uintptr_t)uc->uc_mcontext.fpregs % 64),
    (char *)uc->uc_mcontext.fpregs >= (char *)si + sizeof *si);
}

static volatile int alarms;
static void on_alarm(int sig) { (void)sig; alarms++; }

static int alarm_pause(void) {
  signal(SIGALRM, on_alarm);
  printf("alarm(2) -> %u\n", alarm(2));
  printf("alarm(1) -> %u\n", alarm(1));
  int r = pause();
  printf("pause -> %d errno %s alarms %d\n", r, r < 0 && errno == EINTR ? "EINTR" : "other", alarms);
  printf("alarm(0) -> %u\n", alarm(0));
  return 0;
}

static int sleep_eintr(void) {
  signal(SIGALRM, on_alarm);
  alarm(1);
  struct timespec req = {5, 0}, rem = {0, 0};
  int r = nanosleep(&req, &rem);
  printf("nanosleep -> %d errno %s rem %lds (rounded) alarms %d\n", r, r < 0 && errno == EINTR ? "EINTR" : "other",
    (long)(rem.tv_sec + (rem.tv_nsec >= 500000000)), alarms);
  return 0;
}

static int suspend(void) {
  signal(SIGALRM, on_alarm);
  sigset_t block, empty, now;
  sigemptyset(&block);
  sigaddset(&block, SIGALRM);
  sigemptyset(&empty);
  sigprocmask(SIG_BLOCK, &block, 0);
  alarm(1);
  int r = sigsuspend(&empty);
  sigprocmask(SIG_BLOCK, 0, &now);
  printf("sigsuspend -> %d errno %s alarms %d, SIGALRM blocked again %d\n", r, r < 0 && errno == EINTR ? "EINTR" : "other", alarms, sigismember(&now, SIGALRM));
  return 0;
}

static int itimer(void) {
  signal(SIGALRM, on_alarm);
  struct itimerval it = {{0, 100000}, {0, 100000}}, cur;
  setitimer(ITIMER_REAL, &it, 0);
  while (alarms < 3) pause();
  getitimer(ITIMER_REAL, &cur);
  printf("alarms %d interval %ld.%06ld\n", alarms, (long)cur.it_interval.tv_sec, (long)cur.it_interval.tv_usec);
  it.it_value.tv_usec = 0; it.it_interval.tv_usec = 0;
  setitimer(ITIMER_REAL, &it, &cur);
  printf("disarmed, interval was %ld\n", (long)cur.it_interval.tv_usec);
  return 0;
}

static int sigwait_modes(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGALRM);
  sigprocmask(SIG_BLOCK, &set, 0);
  raise(SIGUSR1);
  siginfo_t si;
  struct timespec zero = {0, 0}, tenth = {0, 100000000};
  int r = sigtimedwait(&set, &si, &zero);
  printf("sigtimedwait -> %d code %d from self %d\n", r, si.si_code, si.si_pid == getpid() && si.si_uid == getuid());
  r = sigtimedwait(&set, &si, &tenth);
  printf("sigtimedwait -> %d errno %s\n", r, r < 0 && errno == EAGAIN ? "EAGAIN" : "other");
  alarm(1);
  r = sigwaitinfo(&set, &si);
  printf("sigwaitinfo -> %d code %d\n", r, si.si_code);
  return 0;
}

static volatile int ticks;
static volatile int tick_code, tick_value, tick_id;
static void on_tick(int sig, siginfo_t *si, void *ucv) {
  (void)sig; (void)ucv;
  ticks++;
  tick_code = si->si_code; tick_value = si->si_value.sival_int; tick_id = si->si_timerid;
}

static int posix_timers(void) {
  struct sigaction sa = {0};
  sa.sa_sigaction = on_tick;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGUSR1, &sa, 0);
  sigaction(SIGALRM, &sa, 0);
  timer_t t1, t2;
  struct sigevent ev = {0};
  ev.sigev_notify = SIGEV_SIGNAL;
  ev.sigev_signo = SIGUSR1;
  ev.sigev_value.sival_int = 42;
  int r1 = timer_create(CLOCK_MONOTONIC, &ev, &t1);
  int r2 = timer_create(CLOCK_REALTIME, 0, &t2);
  printf("timer_create -> %d %d, ids differ %d\n", r1, r2, t1 != t2);
  struct itimerspec it = {{0, 50000000}, {0, 50000000}}, cur;
  timer_settime(t1, 0, &it, 0);
  while (ticks < 3) pause();
  /* the timer keeps running while this prints: counts after this point depend on speed */
  printf("three ticks %d code %d value %d\n", ticks >= 3, tick_code, tick_value);
  timer_gettime(t1, &cur);
  printf("interval %ld ns\n", cur.it_interval.tv_nsec);
  timer_delete(t1);
  printf("timer_gettime after delete -> %d\n", timer_gettime(t1, &cur));
  struct itimerspec once = {{0, 0}, {0, 10000000}};
  timer_settime(t2, 0, &once, 0);
  pause();
  printf("code %d value is the id %d\n", tick_code, tick_value == (int)(intptr_t)t2);
  return 0;
}

static int pipe_fds[2];
static void on_alarm_write(int sig) { (void)sig; alarms++; (void)!write(pipe_fds[1], "x", 1); }

static int pipe_read(int restart) {
  struct sigaction sa = {0};
  sa.sa_handler = on_alarm_write;
  sa.sa_flags = restart ? SA_RESTART : 0;
  sigaction(SIGALRM, &sa, 0);
  if (pipe(pipe_fds) != 0) return 1;
  alarm(1);
  char c = 0;
  ssize_t r = read(pipe_fds[0], &c, 1);
  printf("read -> %zd %s alarms %d\n", r, r == 1 ? (c == 'x' ? "x" : "?") : errno == EINTR ? "EINTR" : "other", alarms);
  return 0;
}

static char altstack[65536];

static void on_overflow(int sig, siginfo_t *si, void *ucv) {
  (void)ucv;
  int local;
  char *p = (char *)&local;
  printf("stack overflow: signal %d code %d, handler on the alternate stack %d\n", sig, si->si_code, p >= altstack && p < altstack + sizeof altstack);
  _exit(0);
}

static int recurse(volatile int n) {
  volatile char pad[256];
  pad[0] = (char)n;
  return recurse(n + 1) + pad[0];
}

static int overflow(int with_altstack) {
  if (with_altstack) {
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    sigaltstack(&ss, 0);
  }
  struct sigaction sa = {0};
  sa.sa_sigaction = on_overflow;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigaction(SIGSEGV, &sa, 0);
  return recurse(0);
}
static void on_alt(int sig) {
  int local;
  char *p = (char *)&local;
  stack_t cur;
  sigaltstack(0, &cur);
  printf("handler %d on the alternate stack: %d, ss_flags %d\n", sig, p >= altstack && p < altstack + sizeof altstack, cur.ss_flags);
}

static int alt(void) {
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
  printf("sigaltstack -> %d\n", sigaltstack(&ss, 0));
  struct sigaction sa = {0};
  sa.sa_handler = on_alt;
  sa.sa_flags = SA_ONSTACK;
  sigaction(SIGUSR1, &sa, 0);
  raise(SIGUSR1);
  sa.sa_flags = 0;
  sigaction(SIGUSR2, &sa, 0);
  raise(SIGUSR2);
  stack_t cur;
  sigaltstack(0, &cur);
  printf("after: ss_flags %d size %zu\n", cur.ss_flags, cur.ss_size);
  return 0;
}

static int blocked(void) {
  struct sigaction sa = {0};
  sa.sa_sigaction = on_usr;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGUSR1, &sa, 0);
  sigaction(SIGUSR2, &sa, 0);
  sigset_t set, pend;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGUSR2);
  sigprocmask(SIG_BLOCK, &set, 0);
  kill(getpid(), SIGUSR2);
  raise(SIGUSR1);
  puts("sent while blocked");
  sigpending(&pend);
  printf("pending USR1 %d USR2 %d\n", sigismember(&pend, SIGUSR1), sigismember(&pend, SIGUSR2));
  fflush(stdout);
  sigprocmask(SIG_UNBLOCK, &set, 0);
  puts("unblocked");
  return 0;
}

static int resethand(void) {
  struct sigaction sa = {0};
  sa.sa_sigaction = on_usr;
  sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
  sigaction(SIGUSR1, &sa, 0);
  raise(SIGUSR1);
  struct sigaction now;
  sigaction(SIGUSR1, 0, &now);
  printf("after the first: handler is SIG_DFL %d\n", now.sa_handler == SIG_DFL);
  fflush(stdout);
  raise(SIGUSR1);
  puts("not reached");
  return 0;
}

static volatile int depth;
static void on_nodefer(int sig) {
  if (depth++ < 2) raise(sig);
  printf("nodefer depth %d\n", depth);
}

static int nodefer(void) {
  struct sigaction sa = {0};
  sa.sa_handler = on_nodefer;
  sa.sa_flags = SA_NODEFER;
  sigaction(SIGUSR1, &sa, 0);
  raise(SIGUSR1);
  printf("done, depth %d\n", depth);
  return 0;
}

static void on_trap(int sig, siginfo_t *si, void *ucv) { print_frame(sig, si, ucv); }

static int traps(void) {
  struct sigaction sa = {0};
  sa.sa_sigaction = on_trap;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGTRAP, &sa, 0);
  __asm__ volatile("int3");
  puts("after int3");
  sa.sa_sigaction = on_fault_skip;
  sigaction(SIGFPE, &sa, 0);
  return 0;
}

static volatile int chld_code = -1, chld_status = -1, chld_pid;
static void on_chld(int sig, siginfo_t *si, void *ucv) {
  (void)sig; (void)ucv;
  chld_code = si->si_code; chld_status = si->si_status; chld_pid = si->si_pid;
}

/* SIGCHLD from an exiting child and from one killed by a signal, with the siginfo a handler sees */
static int sigchld(void) {
  struct sigaction sa = {0};
  sa.sa_sigaction = on_chld;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigaction(SIGCHLD, &sa, 0);
  for (int k = 0; k < 2; k++) {
    chld_code = chld_status = -1;
    pid_t c = fork();
    if (c == 0) { if (k == 0) _exit(7); raise(SIGTERM); _exit(1); }
    int st = 0;
    pid_t w = waitpid(c, &st, 0);
    getppid(); /* a kernel entry after the wait: the handler has run by now, here and natively */
    printf("child %d: waited %d status %#x; SIGCHLD code %d status %d pid %s\n", k, w == c, st, chld_code, chld_status,
           chld_pid == c ? "matches" : "differs");
  }
  return 0;
}

static int fatal(const char *what) {
  if (!strcmp(what, "segv")) *(volatile int *)16 = 1;
  if (!strcmp(what, "ud")) ud_fn();
  if (!strcmp(what, "abort")) abort();
  if (!strcmp(what, "alarm")) { alarm(1); pause(); }
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, 0, _IOLBF, 0);
  const char *m = argc > 1 ? argv[1] : "";
  if (!strcmp(m, "segv-longjmp")) return segv_longjmp();
  if (!strcmp(m, "skip")) return skip();
  if (!strcmp(m, "sigchld")) return sigchld();
  if (!strcmp(m, "alarm")) return alarm_pause();
  if (!strcmp(m, "altstack")) return alt();
  if (!strcmp(m, "sleep")) return sleep_eintr();
  if (!strcmp(m, "pipe-restart")) return pipe_read(1);
  if (!strcmp(m, "pipe-eintr")) return pipe_read(0);
  if (!strcmp(m, "posix-timer")) return posix_timers();
  if (!strcmp(m, "overflow")) return overflow(1);
  if (!strcmp(m, "overflow-no-altstack")) return overflow(0);
  if (!strcmp(m, "sigwait")) return sigwait_modes();
  if (!strcmp(m, "sigsuspend")) return suspend();
  if (!strcmp(m, "itimer")) return itimer();
  if (!strcmp(m, "blocked")) return blocked();
  if (!strcmp(m, "resethand")) return resethand();
  if (!strcmp(m, "nodefer")) return nodefer();
  if (!strcmp(m, "trap")) return traps();
  if (!strcmp(m, "fatal") && argc > 2) return fatal(argv[2]);
  fprintf(stderr, "usage: signals MODE\n");
  return 2;
}
