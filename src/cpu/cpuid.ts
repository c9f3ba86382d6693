// The CPUID model of the emulated processor. It advertises exactly what is implemented: glibc and the
// kernel pick code paths from these bits, so an over-claiming CPUID runs instructions we cannot execute.
import { CPU_MODEL } from './vendor-model.js';
import { type CpuLevel, DEFAULT_CPU_LEVEL } from './cpu-level.js';

/** Highest basic leaf. */
const MAX_BASIC = 0xd;
/** Highest extended leaf. */
const MAX_EXTENDED = 0x80000008;

/** Leaf 0 vendor string of the CPU model (vendor-model.ts) as EBX, EDX, ECX. */
const [VENDOR_EBX, VENDOR_EDX, VENDOR_ECX] = ((): [number, number, number] => {
  const dv = new DataView(new TextEncoder().encode(CPU_MODEL.vendorString).buffer);
  return [dv.getUint32(0, true), dv.getUint32(4, true), dv.getUint32(8, true)];
})();

/** Leaf 1 EAX: the model's family, model and stepping. */
const SIGNATURE = CPU_MODEL.signature;
/** Leaf 1 EBX: CLFLUSH line 8 x 8 = 64 bytes (bits 15:8), 1 logical processor (23:16), APIC id 0. */
const LEAF1_EBX = 0x00010800;

/** Leaf 1 ECX feature bits of x86-64-v2: with CX16, POPCNT and LAHF-SAHF (leaf 0x80000001) the v2 level. */
const LEAF1_ECX_V2 =
  (1 << 0) | // SSE3
  (1 << 9) | // SSSE3
  (1 << 13) | // CX16: CMPXCHG16B
  (1 << 19) | // SSE4.1
  (1 << 20) | // SSE4.2 (with CRC32 and the PCMPxSTRx string compares)
  (1 << 23); // POPCNT
/**
 * Leaf 1 ECX feature bits x86-64-v3 adds (OSXSAVE, bit 27, mirrors CR4.OSXSAVE). FMA (bit 12) and F16C (bit 29)
 * belong to x86-64-v3 but are not implemented yet, so they are not advertised: glibc's libm then keeps its non-FMA
 * routines, and a program compiled to use them raises #UD naming the instruction.
 */
const LEAF1_ECX_V3 =
  (1 << 22) | // MOVBE
  (1 << 26) | // XSAVE: XSAVE/XRSTOR/XSETBV/XGETBV, CR4.OSXSAVE
  (1 << 28); // AVX
/** Leaf 1 ECX bits of every level. */
const LEAF1_ECX_ALL = 1 << 30; // RDRAND
// not set: AES PCLMUL MONITOR (3), hypervisor (bit 31)
/** Leaf 1 ECX OSXSAVE: CR4.OSXSAVE is set (XGETBV usable). */
const OSXSAVE = 1 << 27;

/** Leaf 7 subleaf 0 EBX bits of x86-64-v3. */
const LEAF7_EBX_V3 =
  (1 << 3) | // BMI1
  (1 << 5) | // AVX2
  (1 << 8); // BMI2

/** XCR0 bits the model supports: x87, SSE, AVX. */
export const XCR0_SUPPORTED = 0x7;
/** Size in bytes of the XSAVE area's legacy region and header (the x87 and SSE state, then the 64-byte header). */
export const XSAVE_LEGACY_AND_HEADER = 576;
/** Offset and size of the AVX state component (YMM upper halves) in the standard XSAVE format. */
export const XSAVE_AVX_OFFSET = 576, XSAVE_AVX_SIZE = 256;

/** Leaf 1 EDX feature bits. */
const LEAF1_EDX =
  (1 << 0) | // FPU: x87 on chip
  (1 << 3) | // PSE: large pages (2-MiB pages of 4-level paging are implemented)
  (1 << 4) | // TSC: RDTSC, CR4.TSD
  (1 << 5) | // MSR: RDMSR/WRMSR
  (1 << 6) | // PAE: required by 4-level paging
  (1 << 8) | // CX8: CMPXCHG8B
  (1 << 13) | // PGE: CR4.PGE accepted (global pages may be flushed like others, which is allowed)
  (1 << 15) | // CMOV
  (1 << 19) | // CLFSH: CLFLUSH
  (1 << 23) | // MMX (with the x87 aliasing, ops/mmx.ts)
  (1 << 24) | // FXSR: FXSAVE/FXRSTOR, CR4.OSFXSR
  (1 << 25) | // SSE
  (1 << 26); // SSE2
// not set: VME DE MCE APIC SEP MTRR MCA PAT PSE36 ACPI SS HTT TM PBE

/** Leaf 0x80000001 ECX of x86-64-v2: LAHF/SAHF in 64-bit mode. (Not set: PREFETCHW, SVM.) */
const EXT1_ECX_V2 = 1 << 0;
/** Leaf 0x80000001 ECX bits x86-64-v3 adds: LZCNT (ABM). */
const EXT1_ECX_V3 = 1 << 5;
/** Leaf 0x80000001 EDX. */
const EXT1_EDX =
  (1 << 11) | // SYSCALL/SYSRET
  (1 << 20) | // NX: EFER.NXE and the XD page bit
  (1 << 27) | // RDTSCP and IA32_TSC_AUX
  (1 << 29); // LM: long mode
// not set: 1-GiB pages (26)

/** Leaf 0x80000008 EAX: 40 physical address bits, 48 linear address bits. */
const ADDRESS_SIZES = (48 << 8) | 40;

/** Brand string of leaves 0x80000002..4: 48 bytes, NUL-padded. */
const BRAND = (() => {
  const text = CPU_MODEL.brand;
  const bytes = new Uint8Array(48);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  const dv = new DataView(bytes.buffer);
  return Array.from({ length: 12 }, (_, i) => dv.getUint32(i * 4, true));
})();

/**
 * Deterministic cache parameters (leaf 4): L1d 32 KiB and L1i 32 KiB 8-way, L2 1 MiB 16-way, L3 8 MiB
 * 16-way, 64-byte lines, one core and one thread. glibc sizes its memcpy thresholds from these.
 */
function cacheLeaf(sub: number): [number, number, number, number] {
  // [type (1 data, 2 instruction, 3 unified), level, ways, sets]
  const caches: readonly (readonly [number, number, number, number])[] = [
    [1, 1, 8, 64], [2, 1, 8, 64], [3, 2, 16, 1024], [3, 3, 16, 8192],
  ];
  const e = caches[sub];
  if (!e) return [0, 0, 0, 0];
  const [type, level, ways, sets] = e;
  const eax = type | (level << 5) | (1 << 8); // self-initialising; 1 thread sharing, 1 core per package
  const ebx = ((ways - 1) << 22) | (0 << 12) | 63; // ways, 1 partition, 64-byte line
  return [eax >>> 0, ebx >>> 0, sets - 1, level === 3 ? 1 << 1 : 0]; // L3 inclusive
}

/** Extended topology (leaf 0xb): one thread at the SMT level, one core at the core level. */
function topologyLeaf(sub: number): [number, number, number, number] {
  if (sub === 0) return [0, 1, (1 << 8) | 0, 0];
  if (sub === 1) return [0, 1, (2 << 8) | 1, 0];
  return [0, 0, sub & 0xff, 0];
}

/**
 * Leaf 0xd (XSAVE state enumeration) for x86-64-v3: subleaf 0 gives the supported XCR0 bits and the area sizes
 * (EBX for the components XCR0 enables now), subleaf 2 the AVX component; no XSAVEOPT/XSAVEC/XSAVES (subleaf 1).
 */
function xsaveLeaf(sub: number, xcr0: number): [number, number, number, number] {
  const full = XSAVE_AVX_OFFSET + XSAVE_AVX_SIZE;
  if (sub === 0) return [XCR0_SUPPORTED, xcr0 & 4 ? full : XSAVE_LEGACY_AND_HEADER, full, 0];
  if (sub === 2) return [XSAVE_AVX_SIZE, XSAVE_AVX_OFFSET, 0, 0];
  return [0, 0, 0, 0];
}

/** The state CPUID reads beyond its inputs: the CPU model, CR4.OSXSAVE and XCR0. */
export interface CpuidContext {
  /** The CPU model (cpu-level.ts). */
  level: CpuLevel;
  /** CR4.OSXSAVE (reported as CPUID.1:ECX.OSXSAVE). */
  osxsave: boolean;
  /** XCR0 (leaf 0xd's size of the enabled components). */
  xcr0: number;
}

/** The context of a processor at reset under the default model. */
const DEFAULT_CONTEXT: CpuidContext = { level: DEFAULT_CPU_LEVEL, osxsave: false, xcr0: 1 };

/** CPUID for leaf EAX and subleaf ECX: [EAX, EBX, ECX, EDX]. */
export function cpuid(leaf: number, subleaf: number, ctx: CpuidContext = DEFAULT_CONTEXT): [number, number, number, number] {
  const v2 = ctx.level >= 2, v3 = ctx.level >= 3;
  leaf >>>= 0;
  // leaves beyond the maximum return the highest basic leaf (SDM CPUID, "INPUT EAX = 0: Returns CPUID's
  // Highest Value for Basic Processor Information")
  if ((leaf > MAX_BASIC && leaf < 0x80000000) || leaf > MAX_EXTENDED) leaf = MAX_BASIC;
  switch (leaf) {
    case 0: return [MAX_BASIC, VENDOR_EBX, VENDOR_ECX, VENDOR_EDX];
    case 1: {
      const ecx = LEAF1_ECX_ALL | (v2 ? LEAF1_ECX_V2 : 0) | (v3 ? LEAF1_ECX_V3 | (ctx.osxsave ? OSXSAVE : 0) : 0);
      return [SIGNATURE, LEAF1_EBX, ecx >>> 0, LEAF1_EDX >>> 0];
    }
    case 7: return subleaf >>> 0 === 0 ? [0, v3 ? LEAF7_EBX_V3 : 0, 0, 0] : [0, 0, 0, 0];
    case 0xd: return v3 ? xsaveLeaf(subleaf >>> 0, ctx.xcr0) : [0, 0, 0, 0];
    case 2: return [0x00feff01, 0, 0, 0]; // descriptor 0xff: cache parameters are in leaf 4
    case 4: return cacheLeaf(subleaf >>> 0);
    case 0xb: return topologyLeaf(subleaf >>> 0);
    case 0x80000000: return [MAX_EXTENDED, 0, 0, 0];
    case 0x80000001: return [0, 0, (v2 ? EXT1_ECX_V2 : 0) | (v3 ? EXT1_ECX_V3 : 0), EXT1_EDX >>> 0];
    case 0x80000002: case 0x80000003: case 0x80000004: {
      const i = (leaf - 0x80000002) * 4;
      return [BRAND[i]!, BRAND[i + 1]!, BRAND[i + 2]!, BRAND[i + 3]!];
    }
    case 0x80000006: return [0, 0, (1024 << 16) | (0x8 << 12) | 64, 0]; // L2 1 MiB, 16-way (encoding 8), 64-byte lines
    case 0x80000008: return [ADDRESS_SIZES, 0, 0, 0];
    // 3, 5, 6, 7 below x86-64-v3, 8, 9, 0xa (no PMU), 0xc, 0xd below x86-64-v3,
    // 0x80000005 and 0x80000007: all zero
    default: return [0, 0, 0, 0];
  }
}
