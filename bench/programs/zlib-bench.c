/* A fixed zlib workload for the benchmark of real programs: compress and decompress a generated buffer
   at two levels and check the round trip. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

int main(int argc, char **argv) {
  unsigned long n = argc > 1 ? strtoul(argv[1], 0, 10) : 1 << 20;
  unsigned char *in = malloc(n), *back = malloc(n);
  unsigned int x = 12345;
  for (unsigned long i = 0; i < n; i++) { x = x * 1103515245u + 12345u; in[i] = "abcdefgh  \n"[(x >> 16) % 11] ^ (i % 4096 == 0); }
  for (int level = 1; level <= 9; level += 8) {
    uLongf clen = compressBound(n);
    unsigned char *c = malloc(clen);
    if (compress2(c, &clen, in, n, level) != Z_OK) return 1;
    uLongf blen = n;
    if (uncompress(back, &blen, c, clen) != Z_OK || blen != n || memcmp(in, back, n)) return 2;
    printf("zlib level %d: %lu -> %lu bytes, crc %08lx\n", level, n, (unsigned long)clen, crc32(0, c, clen));
    free(c);
  }
  return 0;
}
