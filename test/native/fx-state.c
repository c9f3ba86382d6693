/* FXRSTOR and LDMXCSR change MXCSR, the XMM registers and the x87 control word: the program loads a prepared
   FXSAVE image, then a new MXCSR, and prints the state each instruction left (read back right after it). */
#include <stdint.h>
#include <stdio.h>

static unsigned char area[512] __attribute__((aligned(16)));
static unsigned char xmm[256] __attribute__((aligned(16)));

int main(void) {
  uint32_t mx1 = 0, mx2 = 0, mxnew = 0x7f80; /* round toward zero, all exceptions masked */
  uint16_t cw = 0;
  __asm__ volatile("fxsave64 %0" : "=m"(area));
  area[0] = 0x7f; area[1] = 0x02; /* FCW 0x027f: double precision */
  area[24] = 0x80; area[25] = 0x5f; area[26] = 0; area[27] = 0; /* MXCSR 0x5f80: round up */
  for (int i = 0; i < 256; i++) area[160 + i] = (unsigned char)(i * 7 + 0x35);
  __asm__ volatile(
    "fxrstor64 %[a]\n\t"
    "stmxcsr %[m]\n\t"
    "fnstcw %[cw]\n\t"
    "movdqu %%xmm0, 0(%[o])\n\t" "movdqu %%xmm1, 16(%[o])\n\t" "movdqu %%xmm2, 32(%[o])\n\t" "movdqu %%xmm3, 48(%[o])\n\t"
    "movdqu %%xmm4, 64(%[o])\n\t" "movdqu %%xmm5, 80(%[o])\n\t" "movdqu %%xmm6, 96(%[o])\n\t" "movdqu %%xmm7, 112(%[o])\n\t"
    "movdqu %%xmm8, 128(%[o])\n\t" "movdqu %%xmm9, 144(%[o])\n\t" "movdqu %%xmm10, 160(%[o])\n\t" "movdqu %%xmm11, 176(%[o])\n\t"
    "movdqu %%xmm12, 192(%[o])\n\t" "movdqu %%xmm13, 208(%[o])\n\t" "movdqu %%xmm14, 224(%[o])\n\t" "movdqu %%xmm15, 240(%[o])\n\t"
    : [m] "=m"(mx1), [cw] "=m"(cw)
    : [a] "m"(area), [o] "r"(xmm)
    : "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
      "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
  __asm__ volatile("ldmxcsr %1\n\tstmxcsr %0" : "=m"(mx2) : "m"(mxnew));
  printf("fxrstor mxcsr %08x fcw %04x\n", mx1, cw);
  for (int n = 0; n < 16; n++) {
    uint64_t lo = 0, hi = 0;
    for (int k = 7; k >= 0; k--) { lo = (lo << 8) | xmm[16 * n + k]; hi = (hi << 8) | xmm[16 * n + 8 + k]; }
    printf("xmm%d %016llx %016llx\n", n, (unsigned long long)lo, (unsigned long long)hi);
  }
  printf("ldmxcsr mxcsr %08x\n", mx2);
  return 0;
}
