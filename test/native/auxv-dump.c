/* auxv-dump: prints this process's initial stack, from argc (the initial RSP) up to the top of the [stack]
   mapping, so test/guest/initial-stack.test.ts can compare it with src/guest/initial-stack.ts.
   Build: gcc -static -O1 -o auxv-dump auxv-dump.c ; run under setarch x86_64 -R with env -i.
   Output (text):
     sp <hex address of argc>
     top <hex end of [stack]>
     bytes <hex of every byte in [sp, top)>
   Nothing in glibc's static start-up writes at or above the initial RSP, so the bytes are as execve left them. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
  (void)argc;
  const unsigned char *sp = (const unsigned char *)argv - 8; /* _start passes argv = initial RSP + 8 */
  uintptr_t top = 0;
  FILE *maps = fopen("/proc/self/maps", "r");
  if (!maps) return 1;
  char line[512];
  while (fgets(line, sizeof line, maps)) {
    unsigned long lo, hi;
    if (strstr(line, "[stack]") && sscanf(line, "%lx-%lx", &lo, &hi) == 2) top = hi;
  }
  fclose(maps);
  if (!top || (uintptr_t)sp >= top) return 1;
  printf("sp %lx\ntop %lx\nbytes ", (unsigned long)(uintptr_t)sp, (unsigned long)top);
  for (const unsigned char *p = sp; (uintptr_t)p < top; p++) printf("%02x", *p);
  printf("\n");
  return 0;
}
