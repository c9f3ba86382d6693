/* Reads the values a host chooses: RDTSC in a hot loop, RDTSCP between system calls, RDRAND of every size.
   Prints counts (the same natively and emulated) and the last RDRAND values (which the trace's inputs must hold). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline uint64_t rdtsc(void) { uint32_t lo, hi; __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)); return ((uint64_t)hi << 32) | lo; }
static inline uint64_t rdtscp(void) { uint32_t lo, hi, aux; __asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux)); return ((uint64_t)hi << 32) | lo; }
static inline int rd64(uint64_t *v) { unsigned char ok; __asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok) :: "cc"); return ok; }
static inline int rd32(uint32_t *v) { unsigned char ok; __asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok) :: "cc"); return ok; }
static inline int rd16(uint16_t *v) { unsigned char ok; __asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok) :: "cc"); return ok; }

int main(int argc, char **argv) {
  int loops = argc > 1 ? atoi(argv[1]) : 2000, calls = argc > 2 ? atoi(argv[2]) : 20, rands = argc > 3 ? atoi(argv[3]) : 40;
  int backwards = 0, tsc = 1, tscp = 0, ok = 1;
  uint64_t prev = rdtsc(), t, sum = 0;
  for (int i = 0; i < loops; i++) { t = rdtsc(); tsc++; if (t < prev) backwards++; sum += t - prev; prev = t; }
  for (int i = 0; i < calls; i++) { t = rdtscp(); tscp++; if (t < prev) backwards++; prev = t; syscall(SYS_getpid); }
  uint64_t a = 0; uint32_t b = 0; uint16_t c = 0;
  for (int i = 0; i < rands; i++) { ok &= rd64(&a); ok &= rd32(&b); ok &= rd16(&c); }
  printf("rdtsc %d rdtscp %d backwards %d advancing %d\n", tsc, tscp, backwards, sum > 0);
  printf("rdrand %d ok %d\n", 3 * rands, ok);
  printf("last %016llx %08x %04x\n", (unsigned long long)a, b, c);
  return 0;
}
