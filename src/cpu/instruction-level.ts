// The CPU model (cpu-level.ts) an instruction needs, derived from iced-x86's CPUID features of the instruction.
import { Code, CpuidFeature } from 'iced-x86';
import type { CpuLevel } from './cpu-level.js';

/** CPUID features that x86-64-v2 adds to the baseline (psABI "x86-64-v2"). */
const V2_FEATURES: ReadonlySet<number> = new Set([
  CpuidFeature.SSE3, CpuidFeature.SSSE3, CpuidFeature.SSE4_1, CpuidFeature.SSE4_2, CpuidFeature.POPCNT, CpuidFeature.CMPXCHG16B,
]);

/** CPUID features that x86-64-v3 adds to x86-64-v2 (psABI "x86-64-v3"). */
const V3_FEATURES: ReadonlySet<number> = new Set([
  CpuidFeature.AVX, CpuidFeature.AVX2, CpuidFeature.BMI1, CpuidFeature.BMI2, CpuidFeature.FMA, CpuidFeature.F16C,
  CpuidFeature.LZCNT, CpuidFeature.MOVBE, CpuidFeature.XSAVE,
]);

/**
 * The lowest level whose CPUID advertises every feature an instruction needs (iced's `cpuidFeatures()` of the
 * decoded instruction). Features of no level (AVX-512, AES, ...) count as 1: the instruction table decides
 * whether such an instruction exists at all. LAHF/SAHF in 64-bit mode need CPUID.80000001H:ECX.LAHF-SAHF,
 * which iced does not list for them: v2.
 */
export function minimumLevel(code: number, features: Int32Array): CpuLevel {
  if (code === Code.Lahf || code === Code.Sahf) return 2;
  let level: CpuLevel = 1;
  for (const f of features) {
    if (V3_FEATURES.has(f)) return 3;
    if (V2_FEATURES.has(f)) level = 2;
  }
  return level;
}
