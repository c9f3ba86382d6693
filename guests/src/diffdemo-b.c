/* diffdemo-b: diffdemo-a with checksum() rewritten (byte by byte, same result).
   Usage: diffdemo [N]   (default N = 2000): fills N words, sorts them by insertion, prints a checksum. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint32_t state = 12345;

static __attribute__((noinline)) uint32_t next_value(void) {
  state = state * 1103515245u + 12345u;
  return state >> 8;
}

static __attribute__((noinline)) void fill(uint32_t *a, int n) {
  for (int i = 0; i < n; i++) a[i] = next_value() % 100000;
}

static __attribute__((noinline)) void sort(uint32_t *a, int n) {
  for (int i = 1; i < n; i++) {
    uint32_t v = a[i];
    int j = i - 1;
    while (j >= 0 && a[j] > v) { a[j + 1] = a[j]; j--; }
    a[j + 1] = v;
  }
}


/* the changed function: the same hash, computed byte by byte with shifts (about four times the steps) */
static __attribute__((noinline)) uint32_t checksum(const uint32_t *a, int n) {
  uint32_t h = 0;
  for (int i = 0; i < n; i++) {
    uint32_t w = 0;
    for (int k = 0; k < 4; k++) w |= (uint32_t)((const unsigned char *)&a[i])[k] << (8 * k);
    h = (h << 5) - h + w;
  }
  return h;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 2000;
  if (n < 1 || n > 100000) return 2;
  uint32_t *a = malloc(n * sizeof *a);
  fill(a, n);
  sort(a, n);
  printf("diffdemo n=%d checksum=%08x\n", n, checksum(a, n));
  return 0;
}
