/* pages: touches many pages: a ~4 MiB malloc, 64 anonymous mmap pages, and brk growth.
   brk goes through syscall(SYS_brk) because musl's sbrk() only supports sbrk(0). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PAGE 4096

int main(void) {
  uint64_t sum = 0;
  size_t big = 4u << 20;
  unsigned char *heap = malloc(big);
  if (!heap) return 1;
  for (size_t i = 0; i < big; i += PAGE) heap[i] = (unsigned char)(i / PAGE * 7 + 1);
  for (size_t i = 0; i < big; i += PAGE) sum = sum * 31 + heap[i];
  free(heap);

  size_t len = 64 * PAGE;
  unsigned char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return 1;
  for (size_t i = 0; i < len; i += PAGE) m[i + (i / PAGE) % PAGE] = (unsigned char)(i / PAGE + 3);
  for (size_t i = 0; i < len; i += PAGE) sum = sum * 31 + m[i + (i / PAGE) % PAGE];
  if (munmap(m, len) != 0) return 1;

  unsigned char *b = (unsigned char *)syscall(SYS_brk, 0);
  if ((unsigned char *)syscall(SYS_brk, b + 16 * PAGE) != b + 16 * PAGE) { printf("brk did not grow\n"); return 1; }
  for (size_t i = 0; i < 16 * PAGE; i += PAGE) b[i] = (unsigned char)(i / PAGE + 5);
  for (size_t i = 0; i < 16 * PAGE; i += PAGE) sum = sum * 31 + b[i];
  if ((unsigned char *)syscall(SYS_brk, b) != b) return 1;

  printf("pages checksum=%016llx\n", (unsigned long long)sum);
  return 0;
}
