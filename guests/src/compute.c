/* compute: deterministic CPU-bound work (qsort, merge sort, two hashes, SSE and x87 arithmetic).
   Usage: compute [N]   (default N = 1000: about 1.5 M user-mode instructions with musl, 0.6 M with glibc) */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t next_random(void) { /* xorshift64* */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545f4914f6cdd1dULL;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

static void merge_sort(uint64_t *a, uint64_t *tmp, size_t n) {
  if (n < 2) return;
  size_t mid = n / 2;
  merge_sort(a, tmp, mid);
  merge_sort(a + mid, tmp, n - mid);
  size_t i = 0, j = mid, k = 0;
  while (i < mid && j < n) tmp[k++] = a[i] <= a[j] ? a[i++] : a[j++];
  while (i < mid) tmp[k++] = a[i++];
  while (j < n) tmp[k++] = a[j++];
  memcpy(a, tmp, n * sizeof *a);
}

static uint64_t fnv1a(const uint64_t *a, size_t n) {
  uint64_t h = 0xcbf29ce484222325ULL;
  const unsigned char *p = (const unsigned char *)a;
  for (size_t i = 0; i < n * sizeof *a; i++) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

static uint64_t mix_hash(const uint64_t *a, size_t n) {
  uint64_t h = 0;
  for (size_t i = 0; i < n; i++) {
    h = (h ^ a[i]) * 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
  }
  return h;
}

int main(int argc, char **argv) {
  size_t n = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 1000;
  uint64_t *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *tmp = malloc(n * sizeof *tmp);
  if (n && (!a || !b || !tmp)) { fprintf(stderr, "out of memory\n"); return 1; }
  for (size_t i = 0; i < n; i++) a[i] = b[i] = next_random();
  qsort(a, n, sizeof *a, cmp_u64);
  merge_sort(b, tmp, n);
  int same = n == 0 || memcmp(a, b, n * sizeof *a) == 0;
  printf("n=%zu sorted_equal=%d\n", n, same);
  printf("fnv1a=%016llx\n", (unsigned long long)fnv1a(a, n));
  printf("mix=%016llx\n", (unsigned long long)mix_hash(a, n));
  double s = 0;
  for (size_t i = 1; i <= n; i++) s += sqrt((double)i);
  printf("sqrt_sum=%.6f\n", s);
  long double l = 0;
  for (size_t i = 1; i <= n; i++) l += 1.0L / (long double)i;
  printf("harmonic=%Lf\n", l);
  free(a); free(b); free(tmp);
  return same ? 0 : 3;
}
