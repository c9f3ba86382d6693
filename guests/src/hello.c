/* hello: the smallest useful guest. stdout through stdio, stderr through write(2). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
  printf("hello, world\n");
  fflush(stdout);
  static const char msg[] = "hello, stderr\n";
  if (write(2, msg, strlen(msg)) < 0) return 1;
  return 0;
}
