// Native side of the differential test: runs generated x86-64 code snippets on the host CPU.
//
// Usage: runner CASES_FILE RESULTS_FILE
// The cases file holds fixed-size records (layout below, mirrored in ../harness.ts). For each case the
// runner loads the full register state (GPRs, RFLAGS, x87/MXCSR/XMM through FXRSTOR), copies the code into
// a fixed RWX page, restores the data region to its baseline plus the case's patches, and jumps to the
// code. The code ends in exit stubs that record which exit was taken and jump to dump(), which saves the
// whole state (GPRs, RFLAGS, FXSAVE) and returns to C. A fault (SIGSEGV/SIGFPE/SIGILL/SIGBUS/SIGTRAP) is
// caught on an alternate stack; the state at the fault comes from the signal's ucontext.
// Results are variable-length records: a fixed header plus the list of changed data bytes.
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <ucontext.h>
#include <unistd.h>

#define CODE_BASE 0x01000000UL
#define CODE_SIZE 0x1000UL
#define DATA_BASE 0x01100000UL
#define DATA_SIZE 0x4000UL
#define CTRL_BASE 0x01200000UL
#define CASE_SIZE 2304
#define MAGIC 0x46464944u /* "DIFF" */

// case record layout (little-endian)
#define C_GPR 0       // 16 x u64
#define C_RFLAGS 128  // u64
#define C_ENTRY 136   // u32 entry offset in the code page
#define C_CODELEN 140 // u32
#define C_PATCHLEN 144 // u32 bytes used in the patch area
#define C_FX 160      // 512-byte FXSAVE image (x87, MXCSR, XMM)
#define C_CODE 672    // 512 bytes of code
#define C_PATCH 1184  // patch area: repeated { u16 offset, u16 length, bytes }
#define C_PATCHMAX (C_YMMH - C_PATCH)
#define C_YMMH 2048  // 256 bytes: bits 255:128 of YMM0..15 (loaded when the host has AVX)

// result record header layout
#define R_STATUS 0   // u32: 0 = reached an exit, 1 = fault, 2 = timeout, 3 = bad case
#define R_EXIT 4     // u32: exit index, or trap number for a fault
#define R_RIP 8      // u64: faulting RIP
#define R_ERR 16     // u64: error code
#define R_CR2 24     // u64: fault address (page faults)
#define R_GPR 32     // 16 x u64
#define R_RFLAGS 160 // u64
#define R_FX 176     // 512 bytes FXSAVE image
#define R_YMMH 688   // 256 bytes: bits 255:128 of YMM0..15 (zero when the host has no AVX)
#define R_NDIFF 944  // u32 number of changed data bytes, then ndiff x { u16 offset, u8 value, u8 0 }
#define R_HDR 948

// state shared with the assembly below
struct {
  uint64_t gpr[16]; // rax rcx rdx rbx rsp rbp rsi rdi r8..r15 (rsp slot unused)
  uint64_t rflags;
  uint64_t rsp;
} g_in __attribute__((aligned(16)));
uint64_t g_entry;
uint64_t g_c_rsp;
uint64_t g_out_rsp;
uint64_t g_out[17] __attribute__((aligned(16))); // rax..r15, rflags
uint8_t g_in_fx[512] __attribute__((aligned(16)));
uint8_t g_out_fx[512] __attribute__((aligned(16)));
uint32_t g_mxcsr_default = 0x1f80;
uint8_t g_in_ymmh[256] __attribute__((aligned(16)));
uint8_t g_out_ymmh[256] __attribute__((aligned(16)));
uint8_t g_avx; // the host has AVX (and the OS enabled its state)

extern void run_case(void);
extern void dump(void);

__asm__(
    ".text\n"
    ".globl run_case\n"
    "run_case:\n"
    "  push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
    "  mov %rsp, g_c_rsp(%rip)\n"
    "  fxrstor64 g_in_fx(%rip)\n"
    "  cmpb $0, g_avx(%rip)\n"
    "  je 1f\n"
    "  vinsertf128 $1, g_in_ymmh+0(%rip), %ymm0, %ymm0\n"
    "  vinsertf128 $1, g_in_ymmh+16(%rip), %ymm1, %ymm1\n"
    "  vinsertf128 $1, g_in_ymmh+32(%rip), %ymm2, %ymm2\n"
    "  vinsertf128 $1, g_in_ymmh+48(%rip), %ymm3, %ymm3\n"
    "  vinsertf128 $1, g_in_ymmh+64(%rip), %ymm4, %ymm4\n"
    "  vinsertf128 $1, g_in_ymmh+80(%rip), %ymm5, %ymm5\n"
    "  vinsertf128 $1, g_in_ymmh+96(%rip), %ymm6, %ymm6\n"
    "  vinsertf128 $1, g_in_ymmh+112(%rip), %ymm7, %ymm7\n"
    "  vinsertf128 $1, g_in_ymmh+128(%rip), %ymm8, %ymm8\n"
    "  vinsertf128 $1, g_in_ymmh+144(%rip), %ymm9, %ymm9\n"
    "  vinsertf128 $1, g_in_ymmh+160(%rip), %ymm10, %ymm10\n"
    "  vinsertf128 $1, g_in_ymmh+176(%rip), %ymm11, %ymm11\n"
    "  vinsertf128 $1, g_in_ymmh+192(%rip), %ymm12, %ymm12\n"
    "  vinsertf128 $1, g_in_ymmh+208(%rip), %ymm13, %ymm13\n"
    "  vinsertf128 $1, g_in_ymmh+224(%rip), %ymm14, %ymm14\n"
    "  vinsertf128 $1, g_in_ymmh+240(%rip), %ymm15, %ymm15\n"
    "1:\n"
    "  lea g_in(%rip), %rsp\n"
    "  pop %rax\n pop %rcx\n pop %rdx\n pop %rbx\n lea 8(%rsp), %rsp\n pop %rbp\n pop %rsi\n pop %rdi\n"
    "  pop %r8\n pop %r9\n pop %r10\n pop %r11\n pop %r12\n pop %r13\n pop %r14\n pop %r15\n"
    "  popfq\n"
    "  pop %rsp\n"
    "  jmp *g_entry(%rip)\n"
    ".globl dump\n"
    "dump:\n"
    "  mov %rsp, g_out_rsp(%rip)\n"
    "  lea g_out+136(%rip), %rsp\n"
    "  pushfq\n"
    "  push %r15\n push %r14\n push %r13\n push %r12\n push %r11\n push %r10\n push %r9\n push %r8\n"
    "  push %rdi\n push %rsi\n push %rbp\n lea -8(%rsp), %rsp\n push %rbx\n push %rdx\n push %rcx\n push %rax\n"
    "  fxsave64 g_out_fx(%rip)\n"
    "  cmpb $0, g_avx(%rip)\n"
    "  je 2f\n"
    "  vextractf128 $1, %ymm0, g_out_ymmh+0(%rip)\n"
    "  vextractf128 $1, %ymm1, g_out_ymmh+16(%rip)\n"
    "  vextractf128 $1, %ymm2, g_out_ymmh+32(%rip)\n"
    "  vextractf128 $1, %ymm3, g_out_ymmh+48(%rip)\n"
    "  vextractf128 $1, %ymm4, g_out_ymmh+64(%rip)\n"
    "  vextractf128 $1, %ymm5, g_out_ymmh+80(%rip)\n"
    "  vextractf128 $1, %ymm6, g_out_ymmh+96(%rip)\n"
    "  vextractf128 $1, %ymm7, g_out_ymmh+112(%rip)\n"
    "  vextractf128 $1, %ymm8, g_out_ymmh+128(%rip)\n"
    "  vextractf128 $1, %ymm9, g_out_ymmh+144(%rip)\n"
    "  vextractf128 $1, %ymm10, g_out_ymmh+160(%rip)\n"
    "  vextractf128 $1, %ymm11, g_out_ymmh+176(%rip)\n"
    "  vextractf128 $1, %ymm12, g_out_ymmh+192(%rip)\n"
    "  vextractf128 $1, %ymm13, g_out_ymmh+208(%rip)\n"
    "  vextractf128 $1, %ymm14, g_out_ymmh+224(%rip)\n"
    "  vextractf128 $1, %ymm15, g_out_ymmh+240(%rip)\n"
    "  vzeroupper\n"
    "2:\n"
    "  pushq $0x202\n popfq\n" // clears DF, AC, ID, NT for the C code
    "  ldmxcsr g_mxcsr_default(%rip)\n"
    "  fninit\n"
    "  mov g_c_rsp(%rip), %rsp\n"
    "  pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n"
    "  ret\n");

static sigjmp_buf g_jmp;
static volatile int g_fault_status;
static uint8_t g_res[R_HDR];
static uint8_t *g_data_base;
static uint8_t g_baseline[DATA_SIZE];

static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }

static void on_signal(int sig, siginfo_t *si, void *ucv) {
  (void)si;
  ucontext_t *uc = (ucontext_t *)ucv;
  greg_t *g = uc->uc_mcontext.gregs;
  if (sig == SIGALRM) {
    g_fault_status = 2;
  } else {
    g_fault_status = 1;
  }
  put32(g_res + R_EXIT, sig == SIGALRM ? 0xffffffffu : (uint32_t)g[REG_TRAPNO]);
  put64(g_res + R_RIP, (uint64_t)g[REG_RIP]);
  put64(g_res + R_ERR, (uint64_t)g[REG_ERR]);
  put64(g_res + R_CR2, (uint64_t)g[REG_CR2]);
  static const int order[16] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
                                REG_R8,  REG_R9,  REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15};
  for (int i = 0; i < 16; i++) put64(g_res + R_GPR + 8 * i, (uint64_t)g[order[i]]);
  put64(g_res + R_RFLAGS, (uint64_t)g[REG_EFL] & ~0x10000ULL); // RF is set by fault delivery, not architectural here
  if (uc->uc_mcontext.fpregs) {
    const uint8_t *fp = (const uint8_t *)uc->uc_mcontext.fpregs;
    memcpy(g_res + R_FX, fp, 512);
    // the XSAVE area follows when sw_reserved.magic1 (offset 464) is FP_XSTATE_MAGIC1; YMM upper halves at 576
    // when XSTATE_BV (offset 512) has the AVX bit, else they are in their initial state (zero)
    memset(g_res + R_YMMH, 0, 256);
    if (get32(fp + 464) == 0x46505853u && (fp[512] & 4)) memcpy(g_res + R_YMMH, fp + 576, 256);
  }
  siglongjmp(g_jmp, 1);
}

static void *map_fixed(unsigned long addr, unsigned long size, int prot) {
  void *p = mmap((void *)addr, size, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (p != (void *)addr) {
    fprintf(stderr, "runner: cannot map %#lx (+%#lx)\n", addr, size);
    exit(3);
  }
  return p;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: runner CASES RESULTS\n");
    return 2;
  }
  FILE *in = fopen(argv[1], "rb");
  if (!in) { perror("runner: cases"); return 2; }
  fseek(in, 0, SEEK_END);
  long total = ftell(in);
  fseek(in, 0, SEEK_SET);
  uint8_t *cases = malloc((size_t)total);
  if (!cases || fread(cases, 1, (size_t)total, in) != (size_t)total) { perror("runner: read"); return 2; }
  fclose(in);
  if (total < 16 || get32(cases) != MAGIC) { fprintf(stderr, "runner: bad cases file\n"); return 2; }
  uint32_t n = get32(cases + 4);
  uint32_t baseline_seed = get32(cases + 8);
  if ((uint64_t)total != 16 + (uint64_t)n * CASE_SIZE) { fprintf(stderr, "runner: bad size\n"); return 2; }
  FILE *out = fopen(argv[2], "wb");
  if (!out) { perror("runner: results"); return 2; }
  static char outbuf[1 << 20];
  setvbuf(out, outbuf, _IOFBF, sizeof outbuf);

  uint8_t *code = map_fixed(CODE_BASE, CODE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC);
  g_data_base = map_fixed(DATA_BASE, DATA_SIZE, PROT_READ | PROT_WRITE);
  map_fixed(CTRL_BASE, 0x1000, PROT_READ | PROT_WRITE);
  volatile uint32_t *ctrl = (volatile uint32_t *)CTRL_BASE;
  // exit stubs: mov dword [CTRL_BASE], k; jmp qword [CTRL_BASE + 8]
  *(volatile uint64_t *)(CTRL_BASE + 8) = (uint64_t)(uintptr_t)dump;
  __builtin_cpu_init();
  g_avx = __builtin_cpu_supports("avx") ? 1 : 0;

  // the baseline content of the data region: xorshift32 low bytes (mirrored in harness.ts)
  uint32_t x = baseline_seed ? baseline_seed : 1;
  for (unsigned long i = 0; i < DATA_SIZE; i++) {
    x ^= x << 13; x ^= x >> 17; x ^= x << 5;
    g_baseline[i] = (uint8_t)x;
  }

  static uint8_t altstack[1 << 17];
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
  if (sigaltstack(&ss, NULL) != 0) { perror("runner: sigaltstack"); return 2; }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGALRM};
  for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);

  static uint8_t diffs[DATA_SIZE * 4];
  for (uint32_t k = 0; k < n; k++) {
    const uint8_t *c = cases + 16 + (size_t)k * CASE_SIZE;
    memset(g_res, 0, sizeof g_res);
    uint32_t entry = get32(c + C_ENTRY), codelen = get32(c + C_CODELEN), plen = get32(c + C_PATCHLEN);
    int bad = entry >= CODE_SIZE || codelen > 512 || plen > C_PATCHMAX;
    memcpy(g_data_base, g_baseline, DATA_SIZE);
    for (uint32_t p = 0; !bad && p < plen;) {
      if (p + 4 > plen) { bad = 1; break; }
      uint32_t off = get16(c + C_PATCH + p), len = get16(c + C_PATCH + p + 2);
      if (off + len > DATA_SIZE || p + 4 + len > plen) { bad = 1; break; }
      memcpy(g_data_base + off, c + C_PATCH + p + 4, len);
      p += 4 + len;
    }
    if (bad) {
      put32(g_res + R_STATUS, 3);
      put32(g_res + R_NDIFF, 0);
      fwrite(g_res, 1, R_HDR, out);
      continue;
    }
    memset(code, 0xcc, CODE_SIZE);
    memcpy(code, c + C_CODE, codelen);
    memcpy(&g_in.gpr, c + C_GPR, 128);
    memcpy(&g_in.rflags, c + C_RFLAGS, 8);
    memcpy(&g_in.rsp, c + C_GPR + 4 * 8, 8);
    memcpy(g_in_fx, c + C_FX, 512);
    memcpy(g_in_ymmh, c + C_YMMH, 256);
    g_entry = CODE_BASE + entry;
    *ctrl = 0xffffffffu;
    g_fault_status = 0;
    struct itimerval it = {{0, 0}, {2, 0}};
    setitimer(ITIMER_REAL, &it, NULL);
    if (sigsetjmp(g_jmp, 1) == 0) {
      run_case();
      struct itimerval off = {{0, 0}, {0, 0}};
      setitimer(ITIMER_REAL, &off, NULL);
      put32(g_res + R_STATUS, 0);
      put32(g_res + R_EXIT, *ctrl);
      memcpy(g_res + R_GPR, g_out, 128);
      put64(g_res + R_GPR + 4 * 8, g_out_rsp);
      put64(g_res + R_RFLAGS, g_out[16]);
      memcpy(g_res + R_FX, g_out_fx, 512);
      if (g_avx) memcpy(g_res + R_YMMH, g_out_ymmh, 256);
    } else {
      struct itimerval off = {{0, 0}, {0, 0}};
      setitimer(ITIMER_REAL, &off, NULL);
      put32(g_res + R_STATUS, (uint32_t)g_fault_status);
    }
    uint32_t nd = 0;
    for (uint32_t i = 0; i < DATA_SIZE; i++) {
      if (g_data_base[i] != g_baseline[i]) {
        diffs[nd * 4] = (uint8_t)i;
        diffs[nd * 4 + 1] = (uint8_t)(i >> 8);
        diffs[nd * 4 + 2] = g_data_base[i];
        diffs[nd * 4 + 3] = 0;
        nd++;
      }
    }
    put32(g_res + R_NDIFF, nd);
    fwrite(g_res, 1, R_HDR, out);
    fwrite(diffs, 4, nd, out);
  }
  if (fclose(out) != 0) { perror("runner: write"); return 2; }
  return 0;
}
