/* Makes a system call the guest kernel does not implement (io_setup) twice, then exits normally. */
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
  long ctx = 0;
  syscall(SYS_io_setup, 1, &ctx);
  syscall(SYS_io_setup, 1, &ctx);
  printf("done\n");
  return 0;
}
