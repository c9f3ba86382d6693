// SIMD sample: MMX instructions on MMX registers (with EMMS before the x87 long double code after them), the SSE
// MMX extensions, and SSSE3 / SSE4.1 / SSE4.2 intrinsics (string compares, CRC32, blends,
// rounding, dot products). Every result is printed; the output must equal a native run's.
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#pragma GCC target("sse4.2,ssse3,popcnt")
#include <smmintrin.h>
#include <nmmintrin.h>
#include <tmmintrin.h>

// GCC 12 compiles MMX intrinsics to SSE code on x86-64, so the MMX part is written with MMX register operands.
#define MMX2(op, a, b) __asm__(op " %1, %0" : "+y"(a) : "y"(b))
#define MMXI(op, imm, a) __asm__(op " $" #imm ", %0" : "+y"(a))

/** Saturating brightness/contrast over a byte image in MMX registers, then EMMS and an x87 average. */
static void mmx_part(void) {
  uint8_t img[64];
  for (int i = 0; i < 64; i++) img[i] = (uint8_t)(i * 37 + 11);
  uint64_t acc = 0, sad = 0, mx = 0, mask = 0;
  const uint64_t zero = 0, three = 0x0003000300030003ull, five = 0x0005000500050005ull, bias = 0xffd8ffd8ffd8ffd8ull;
  for (int i = 0; i < 64; i += 8) {
    uint64_t p, lo, hi, t;
    memcpy(&p, img + i, 8);
    lo = p; MMX2("punpcklbw", lo, zero);
    hi = p; MMX2("punpckhbw", hi, zero);
    MMX2("pmullw", lo, three); MMX2("pmullw", hi, five); MMXI("psrlw", 1, hi);
    t = lo; MMX2("paddsw", t, bias); MMX2("packuswb", t, hi);
    uint64_t m = lo; MMX2("pmaddwd", m, hi); MMX2("paddd", acc, m);
    uint64_t s = t; MMX2("psadbw", s, p); MMX2("paddd", sad, s);
    uint64_t v = lo; MMX2("pavgw", v, hi); __asm__("pshufw $0x1b, %1, %0" : "=y"(v) : "y"(v)); MMX2("pmaxsw", mx, v);
    uint64_t g = zero; MMX2("pcmpgtb", g, t); uint32_t bits; __asm__("pmovmskb %1, %0" : "=r"(bits) : "y"(g)); mask = mask * 3 + bits;
    memcpy(img + i, &t, 8);
  }
  __asm__ volatile("emms");
  long double mean = 0;
  for (int i = 0; i < 64; i++) mean += img[i];
  printf("mmx: acc=%016llx sad=%016llx max=%016llx mask=%llx mean=%.4Lf\n",
    (unsigned long long)acc, (unsigned long long)sad, (unsigned long long)mx, (unsigned long long)mask, mean / 64);
}

/** SSE4.2 string compares, CRC32 and POPCNT. */
static void sse42_part(void) {
  static const char text[64] __attribute__((aligned(16))) = "The quick brown fox, 42 lazy dogs; jumps over!";
  __m128i set = _mm_setr_epi8(',', ';', '!', '4', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  __m128i range = _mm_setr_epi8('a', 'z', 'A', 'Z', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  __m128i needle = _mm_setr_epi8('l', 'a', 'z', 'y', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  for (int off = 0; off < 48; off += 16) {
    __m128i t = _mm_load_si128((const __m128i *)(text + off));
    int any = _mm_cmpistri(set, t, _SIDD_UBYTE_OPS | _SIDD_CMP_EQUAL_ANY);
    int letters = _mm_popcnt_u32((unsigned)_mm_cvtsi128_si32(_mm_cmpistrm(range, t, _SIDD_UBYTE_OPS | _SIDD_CMP_RANGES)));
    int sub = _mm_cmpestri(needle, 4, t, 16, _SIDD_UBYTE_OPS | _SIDD_CMP_EQUAL_ORDERED);
    int z = _mm_cmpistrz(set, t, _SIDD_UBYTE_OPS | _SIDD_CMP_EQUAL_ANY);
    printf("sse4.2 @%d: any=%d letters=%d lazy=%d end=%d\n", off, any, letters, sub, z);
  }
  uint32_t crc = 0xffffffff;
  for (size_t i = 0; i < strlen(text); i++) crc = _mm_crc32_u8(crc, (uint8_t)text[i]);
  uint64_t crc64 = _mm_crc32_u64(0, 0x0123456789abcdefull);
  printf("crc32c=%08x crc64=%08llx popcnt=%lld\n", ~crc, (unsigned long long)crc64, (long long)_mm_popcnt_u64(0xf0f0f0f0f0f0f0f1ull));
}

/** SSSE3 and SSE4.1 arithmetic, shuffles, blends, rounding and dot products. */
static void sse41_part(void) {
  __m128i a = _mm_setr_epi16(-7, 300, -32768, 32767, 5, -1, 1000, -1000);
  __m128i b = _mm_setr_epi16(3, -2, 2, 2, -5, 7, 30000, 12);
  __m128i h = _mm_hadds_epi16(a, b), s = _mm_sign_epi16(a, b), r = _mm_mulhrs_epi16(a, b);
  __m128i sh = _mm_shuffle_epi8(_mm_abs_epi16(a), _mm_setr_epi8(15, 14, 1, 0, -1, 3, 2, 9, 8, 7, 6, 5, 4, 13, 12, 11));
  __m128i al = _mm_alignr_epi8(a, b, 5);
  __m128i mn = _mm_min_epi32(_mm_cvtepi16_epi32(a), _mm_cvtepi16_epi32(b));
  __m128i mp = _mm_mpsadbw_epu8(_mm_setr_epi8(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16), _mm_set1_epi8(7), 1);
  __m128i pk = _mm_packus_epi32(_mm_mullo_epi32(_mm_cvtepi16_epi32(a), _mm_set1_epi32(3)), _mm_set1_epi32(70000));
  __m128i mm = _mm_minpos_epu16(_mm_add_epi16(a, b));
  __m128i bl = _mm_blendv_epi8(a, b, _mm_cmpgt_epi16(a, b));
  int64_t x = _mm_extract_epi64(_mm_insert_epi32(_mm_cvtepu8_epi64(_mm_set1_epi8(-3)), 77, 1), 0);
  int t = _mm_testz_si128(a, _mm_setzero_si128()) + 2 * _mm_testc_si128(a, a);
  __m128i v[] = { h, s, r, sh, al, mn, mp, pk, mm, bl };
  for (unsigned i = 0; i < sizeof v / sizeof v[0]; i++) {
    uint64_t q[2]; memcpy(q, &v[i], 16);
    printf("sse4.1 #%u: %016llx%016llx\n", i, (unsigned long long)q[1], (unsigned long long)q[0]);
  }
  __m128 f = _mm_setr_ps(1.5f, -2.5f, 3.49f, -0.5f), g = _mm_setr_ps(0.25f, 4.0f, -1.0f, 8.0f);
  float out[4], dp[4], fl[4];
  _mm_storeu_ps(out, _mm_round_ps(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  _mm_storeu_ps(dp, _mm_dp_ps(f, g, 0xf3));
  _mm_storeu_ps(fl, _mm_hadd_ps(_mm_addsub_ps(f, g), _mm_floor_ps(g)));
  double d = _mm_cvtsd_f64(_mm_dp_pd(_mm_setr_pd(1.25, -3.0), _mm_setr_pd(8.0, 0.5), 0x31));
  printf("round %g %g %g %g dp %g %g haddsub %g %g %g %g dpd %g x=%lld t=%d\n",
    out[0], out[1], out[2], out[3], dp[0], dp[1], fl[0], fl[1], fl[2], fl[3], d, (long long)x, t);
}

int main(void) {
  mmx_part();
  sse42_part();
  sse41_part();
  return 0;
}
