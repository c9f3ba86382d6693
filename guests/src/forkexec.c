/* forkexec: fork a child that writes to a pipe and exits 7; read the pipe, waitpid it; fork a child that execs
   argv[1] (default /bin/echo) with arguments, wait for it; exit 3. Exercises fork, pipe, read until EOF (the parent
   blocks while the child runs), waitpid, execv and exit statuses. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>
#include <string.h>
int main(int argc, char **argv) {
  int fds[2];
  if (pipe(fds) != 0) return 1;
  printf("parent start\n"); fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    char msg[64];
    snprintf(msg, sizeof msg, "hello from child, ppid ok=%d\n", getppid() > 0);
    write(fds[1], msg, strlen(msg));
    close(fds[1]);
    _exit(7);
  }
  close(fds[1]);
  char buf[128]; ssize_t n; size_t total = 0;
  while ((n = read(fds[0], buf + total, sizeof buf - 1 - total)) > 0) total += n;
  buf[total] = 0;
  printf("parent read: %s", buf);
  int st = 0;
  pid_t w = waitpid(pid, &st, 0);
  printf("waited %d: exited=%d status=%d\n", w == pid, WIFEXITED(st), WEXITSTATUS(st));
  pid_t e = fork();
  if (e == 0) {
    char *args[] = { "echo", "exec'd", "echo", NULL };
    execv(argc > 1 ? argv[1] : "/bin/echo", args);
    _exit(127);
  }
  waitpid(e, &st, 0);
  printf("echo status %d\n", WEXITSTATUS(st));
  return 3;
}
