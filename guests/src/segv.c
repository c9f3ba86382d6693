/* segv: prints a line, then writes through a NULL pointer (SIGSEGV; a shell reports status 139). */
#include <stdio.h>

int main(void) {
  printf("about to fault\n");
  fflush(stdout);
  volatile int *p = (volatile int *)0;
  *p = 42;
  printf("not reached\n");
  return 0;
}
