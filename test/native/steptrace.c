/* steptrace: runs a program under ptrace and single-steps it in user mode, writing one record per step.
 *
 *   steptrace -o RECORDS [-s SUMMARY] [-r RANDOM] [-n] [-e KEY=VALUE]... -- PROGRAM [ARG]...
 *
 * The child calls personality(ADDR_NO_RANDOMIZE) (like setarch -R), PTRACE_TRACEME, then execve(PROGRAM, argv, envp)
 * where envp is exactly the -e strings (nothing inherited). argv[0] is PROGRAM as given.
 * RECORDS receives one record per executed (or faulting) user-mode instruction: 18 little-endian u64,
 *   rip, rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp, r8, r9, r10, r11, r12, r13, r14, r15, rflags
 * holding the state BEFORE that instruction (record 0 is the state at the entry point).
 * Facts about what a step is on Linux/x86-64 with the trap flag:
 *  - a step over `syscall` stops after it (the whole system call is one step);
 *  - a REP-prefixed string instruction stops after every iteration (the same RIP repeats);
 *  - a faulting instruction stops with the signal (e.g. SIGSEGV) before it retires; it is recorded once and the
 *    signal is then delivered.
 * RANDOM, if given, receives the 16 AT_RANDOM bytes the kernel gave the program (read at the exec stop through
 * /proc/PID/auxv and PTRACE_PEEKDATA), so that an emulated run can be given the same bytes.
 * -n hides the vDSO as the emulated machine does: at the exec stop the AT_SYSINFO_EHDR pair of the auxiliary vector
 * on the stack becomes (AT_IGNORE, 0), so that a C library or dynamic loader does not use the (still mapped) vDSO.
 * SUMMARY (or stderr without -s) gets "steps N" and "exit S" or "signal N". The program's stdin/stdout/stderr are
 * steptrace's own. Exit status: 0 when tracing worked, 1 on a usage or ptrace error. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ENV 256

static void die(const char *what) {
  fprintf(stderr, "steptrace: %s: %s\n", what, strerror(errno));
  exit(1);
}

/* Writes the 16 bytes AT_RANDOM points to in the stopped child to `path`. */
static void dump_at_random(pid_t pid, const char *path) {
  char auxv_path[64];
  snprintf(auxv_path, sizeof auxv_path, "/proc/%d/auxv", (int)pid);
  FILE *f = fopen(auxv_path, "rb");
  if (!f) die(auxv_path);
  uint64_t pair[2], addr = 0;
  while (fread(pair, sizeof pair, 1, f) == 1 && pair[0] != 0) if (pair[0] == 25 /* AT_RANDOM */) addr = pair[1];
  fclose(f);
  if (addr == 0) { fprintf(stderr, "steptrace: no AT_RANDOM in %s\n", auxv_path); exit(1); }
  uint64_t bytes[2];
  for (int k = 0; k < 2; k++) {
    errno = 0;
    long w = ptrace(PTRACE_PEEKDATA, pid, (void *)(addr + 8 * k), NULL);
    if (w == -1 && errno != 0) die("PTRACE_PEEKDATA");
    bytes[k] = (uint64_t)w;
  }
  FILE *out = fopen(path, "wb");
  if (!out || fwrite(bytes, sizeof bytes, 1, out) != 1 || fclose(out) != 0) die(path);
}

static uint64_t peek(pid_t pid, uint64_t addr) {
  errno = 0;
  long w = ptrace(PTRACE_PEEKDATA, pid, (void *)addr, NULL);
  if (w == -1 && errno != 0) die("PTRACE_PEEKDATA");
  return (uint64_t)w;
}

/* Rewrites the AT_SYSINFO_EHDR pair of the stopped child's auxv (on its stack above argv and envp) to AT_IGNORE. */
static void hide_vdso(pid_t pid) {
  struct user_regs_struct r;
  if (ptrace(PTRACE_GETREGS, pid, NULL, &r) == -1) die("PTRACE_GETREGS");
  uint64_t p = r.rsp, argc = peek(pid, p);
  p += 8 * (argc + 2); /* argc, argv[], NULL */
  while (peek(pid, p) != 0) p += 8; /* envp[] */
  for (p += 8; peek(pid, p) != 0; p += 16) {
    if (peek(pid, p) != 33 /* AT_SYSINFO_EHDR */) continue;
    if (ptrace(PTRACE_POKEDATA, pid, (void *)p, (void *)1 /* AT_IGNORE */) == -1) die("PTRACE_POKEDATA");
    if (ptrace(PTRACE_POKEDATA, pid, (void *)(p + 8), (void *)0) == -1) die("PTRACE_POKEDATA");
  }
}

int main(int argc, char **argv) {
  const char *out_path = NULL, *summary_path = NULL, *random_path = NULL;
  int no_vdso = 0;
  char *envp[MAX_ENV + 1];
  int envc = 0, i = 1;
  for (; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) { i++; break; }
    if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) out_path = argv[++i];
    else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc) summary_path = argv[++i];
    else if (strcmp(argv[i], "-r") == 0 && i + 1 < argc) random_path = argv[++i];
    else if (strcmp(argv[i], "-n") == 0) no_vdso = 1;
    else if (strcmp(argv[i], "-e") == 0 && i + 1 < argc && envc < MAX_ENV) envp[envc++] = argv[++i];
    else { fprintf(stderr, "usage: steptrace -o RECORDS [-s SUMMARY] [-r RANDOM] [-n] [-e K=V]... -- PROGRAM [ARG]...\n"); return 1; }
  }
  envp[envc] = NULL;
  if (!out_path || i >= argc) { fprintf(stderr, "steptrace: need -o RECORDS and a program\n"); return 1; }
  char **child_argv = argv + i;

  FILE *out = fopen(out_path, "wb");
  if (!out) die(out_path);
  static char buffer[1 << 20];
  setvbuf(out, buffer, _IOFBF, sizeof buffer);

  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    if (personality(ADDR_NO_RANDOMIZE) == -1) die("personality(ADDR_NO_RANDOMIZE)");
    if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) == -1) die("PTRACE_TRACEME");
    execve(child_argv[0], child_argv, envp);
    die("execve");
  }

  int status;
  if (waitpid(pid, &status, 0) < 0) die("waitpid");
  if (!WIFSTOPPED(status) || WSTOPSIG(status) != SIGTRAP) { fprintf(stderr, "steptrace: child did not stop at exec\n"); return 1; }
  ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)PTRACE_O_EXITKILL);
  if (random_path) dump_at_random(pid, random_path);
  if (no_vdso) hide_vdso(pid);

  uint64_t steps = 0;
  int deliver = 0;
  for (;;) {
    struct user_regs_struct r;
    if (ptrace(PTRACE_GETREGS, pid, NULL, &r) == -1) die("PTRACE_GETREGS");
    if (deliver == 0) {
      uint64_t rec[18] = {r.rip, r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp, r.rsp,
                          r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.eflags};
      fwrite(rec, sizeof rec, 1, out);
      steps++;
    }
    if (ptrace(PTRACE_SINGLESTEP, pid, NULL, (void *)(intptr_t)deliver) == -1) die("PTRACE_SINGLESTEP");
    if (waitpid(pid, &status, 0) < 0) die("waitpid");
    if (WIFEXITED(status) || WIFSIGNALED(status)) break;
    /* A stop with a signal other than SIGTRAP: the instruction just recorded faulted (or a signal arrived).
       Deliver it on the next resume without recording the same state twice. */
    deliver = WSTOPSIG(status) == SIGTRAP ? 0 : WSTOPSIG(status);
  }
  if (fclose(out) != 0) die(out_path);

  FILE *summary = summary_path ? fopen(summary_path, "w") : stderr;
  if (!summary) die(summary_path);
  fprintf(summary, "steps %llu\n", (unsigned long long)steps);
  if (WIFEXITED(status)) fprintf(summary, "exit %d\n", WEXITSTATUS(status));
  else fprintf(summary, "signal %d\n", WTERMSIG(status));
  if (summary != stderr) fclose(summary);
  return 0;
}
