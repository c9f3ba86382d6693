// eventfd, epoll, socketpair (stream and datagram), memfd_create and /dev/tty: prints what each call returns, to
// compare the guest kernel with a native run (run it without a controlling terminal, as tests do).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static void check(const char *what, long r) {
  printf("%s = %ld%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? strerror(errno) : "");
}

static void waitall(int ep, const char *what) {
  struct epoll_event ev[8];
  int n = epoll_wait(ep, ev, 8, 0);
  printf("epoll_wait %s = %d:", what, n);
  for (int i = 0; i < n; i++) printf(" [data %lu events %#x]", (unsigned long)ev[i].data.u64, ev[i].events);
  printf("\n");
}

int main(void) {
  uint64_t v = 0;
  int efd = eventfd(3, EFD_NONBLOCK);
  check("eventfd", efd >= 0 ? 0 : -1);
  check("eventfd read", read(efd, &v, 8));
  printf("value %lu\n", (unsigned long)v);
  check("eventfd read empty", read(efd, &v, 8));
  check("eventfd short read", read(efd, &v, 4));
  v = 5;
  check("eventfd write", write(efd, &v, 8));
  check("eventfd write", write(efd, &v, 8));
  int sem = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
  check("sem read", read(sem, &v, 8));
  printf("sem value %lu\n", (unsigned long)v);

  int sv[2], dv[2], iv[2];
  check("socketpair stream", socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv));
  check("socketpair dgram", socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, dv));
  check("socketpair inet", socketpair(AF_INET, SOCK_STREAM, 0, iv));
  printf("fds %d %d %d %d %d %d\n", efd, sem, sv[0], sv[1], dv[0], dv[1]);

  int ep = epoll_create1(EPOLL_CLOEXEC);
  check("epoll_create1", ep >= 0 ? 0 : -1);
  struct epoll_event e = {.events = EPOLLIN, .data.u64 = 1};
  check("epoll_ctl add efd", epoll_ctl(ep, EPOLL_CTL_ADD, efd, &e));
  check("epoll_ctl add again", epoll_ctl(ep, EPOLL_CTL_ADD, efd, &e));
  e.data.u64 = 2;
  check("epoll_ctl add sock", epoll_ctl(ep, EPOLL_CTL_ADD, sv[1], &e));
  e.events = EPOLLOUT; e.data.u64 = 3;
  check("epoll_ctl add sock out", epoll_ctl(ep, EPOLL_CTL_ADD, sv[0], &e));
  check("epoll_ctl mod missing", epoll_ctl(ep, EPOLL_CTL_MOD, dv[0], &e));
  check("epoll_ctl self", epoll_ctl(ep, EPOLL_CTL_ADD, ep, &e));
  int file = open("/etc/hostname", O_RDONLY);
  check("epoll_ctl regular file", epoll_ctl(ep, EPOLL_CTL_ADD, file, &e));
  waitall(ep, "first");
  check("send", send(sv[0], "hello", 5, 0));
  check("write", write(sv[0], " world", 6));
  waitall(ep, "after send");
  char buf[64];
  check("recv 3", recv(sv[1], buf, 3, 0));
  check("read rest", read(sv[1], buf, sizeof buf));
  printf("got %.8s\n", buf);
  check("read empty", read(sv[1], buf, sizeof buf));
  check("send dgram 1", send(dv[0], "one", 3, 0));
  check("send dgram 2", send(dv[0], "three", 5, 0));
  check("recv dgram cut", recv(dv[1], buf, 2, 0));
  check("recv dgram", recv(dv[1], buf, sizeof buf, 0));
  printf("got %.5s\n", buf);
  check("epoll_ctl del", epoll_ctl(ep, EPOLL_CTL_DEL, efd, NULL));
  check("shutdown", shutdown(sv[0], SHUT_WR));
  check("read after shutdown", read(sv[1], buf, sizeof buf));
  waitall(ep, "after shutdown");
  close(sv[1]);
  check("send to closed", send(sv[0], "x", 1, MSG_NOSIGNAL));
  struct stat st;
  fstat(dv[0], &st);
  printf("socket mode %o\n", st.st_mode);

  int m = memfd_create("scratch", MFD_CLOEXEC);
  check("memfd_create", m >= 0 ? 0 : -1);
  check("memfd write", write(m, "memory file", 11));
  check("memfd ftruncate", ftruncate(m, 8192));
  fstat(m, &st);
  printf("memfd mode %o size %ld nlink %ld\n", st.st_mode, (long)st.st_size, (long)st.st_nlink);
  char *p = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, m, 0);
  printf("memfd mapped: %.11s\n", p == MAP_FAILED ? "failed" : p);
  char link[128] = {0}, path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", m);
  check("readlink memfd", readlink(path, link, sizeof link - 1));
  printf("link %s\n", link);
  snprintf(path, sizeof path, "/proc/self/fd/%d", efd);
  memset(link, 0, sizeof link);
  check("readlink eventfd", readlink(path, link, sizeof link - 1));
  printf("link %s\n", link);
  check("open /dev/tty", open("/dev/tty", O_RDWR));

  // /proc/self/auxv holds what getauxval answers
  int ax = open("/proc/self/auxv", O_RDONLY);
  unsigned long pairs[128] = {0};
  ssize_t an = read(ax, pairs, sizeof pairs);
  int same = an > 0 && an % 16 == 0, entries = 0;
  for (ssize_t i = 0; i + 1 < an / 8; i += 2, entries++) {
    if (pairs[i] == AT_NULL) break;
    if (pairs[i] != AT_HWCAP && getauxval(pairs[i]) != pairs[i + 1]) same = 0; // glibc rewrites AT_HWCAP on x86-64
  }
  printf("auxv agrees with getauxval: %s (%s AT_NULL)\n", same && entries > 10 ? "yes" : "no", pairs[entries * 2] == 0 ? "ends with" : "lacks");
  // /proc/self/status: the fields that do not depend on the machine
  FILE *st_f = fopen("/proc/self/status", "r");
  char line[256];
  while (st_f && fgets(line, sizeof line, st_f)) {
    if (!strncmp(line, "Name:", 5) || !strncmp(line, "State:", 6) || !strncmp(line, "Threads:", 8) || !strncmp(line, "TracerPid:", 10)) fputs(line, stdout);
    unsigned u;
    if (sscanf(line, "Uid: %u", &u) == 1) printf("Uid is getuid: %s\n", u == getuid() ? "yes" : "no");
    int pid;
    if (sscanf(line, "Pid: %d", &pid) == 1) printf("Pid is getpid: %s\n", pid == getpid() ? "yes" : "no");
  }
  return 0;
}
