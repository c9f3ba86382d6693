// Calls printf (through the PLT) argv[1] times, then write() once: the PLT-call counts of `trace query` are
// compared with gdb's count of entries into libc's printf.
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 5;
  for (int i = 0; i < n; i++) printf("line %d of %d\n", i, n);
  fflush(stdout);
  write(1, "done\n", 5);
  return 0;
}
