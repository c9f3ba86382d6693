/* rep: REP MOVSB and REP STOSB written out as inline assembly (compilers and libcs pick their own string
   routines, so nothing else guarantees a byte-granular REP loop). The destination is untouched .bss, so the copy
   page-faults in the middle of its iterations. Usage: rep [N] (bytes to copy, default 6000). */
#include <stdio.h>
#include <stdlib.h>

static unsigned char src[32768];
static unsigned char dst[32768];

static void copy_bytes(unsigned char *d, const unsigned char *s, size_t n) {
  __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
}

static void fill_bytes(unsigned char *d, unsigned char v, size_t n) {
  __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(v) : "memory");
}

int main(int argc, char **argv) {
  size_t n = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 6000;
  if (n > sizeof src) n = sizeof src;
  for (size_t i = 0; i < n; i++) src[i] = (unsigned char)(i * 7 + 3);
  copy_bytes(dst, src, n);
  fill_bytes(dst + n, 0x5a, 16);
  unsigned sum = 0;
  for (size_t i = 0; i < n + 16; i++) sum = sum * 31 + dst[i];
  printf("rep n=%zu sum=%08x\n", n, sum);
  return 0;
}
