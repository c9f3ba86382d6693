// Random test-case generator for the differential suite: per instruction family, random instructions
// (encoded with iced-x86) with random operands, registers, flags, memory and x87/SSE state.
// Every case is generated from its own PRNG seeded by (seed, family, index), so any single case can be
// regenerated from those three values.
import {
  Code, CodeExt, Decoder, EncodingKind, Encoder, Formatter, FormatterSyntax, Instruction, MemoryOperand,
  MemorySize, MemorySizeExt, Mnemonic, OpCodeOperandKind as K, Register, RepPrefixKind, CpuidFeature,
} from 'iced-x86';
import { archFlags } from '../../src/cpu/decoded.js';
import { CODE_BASE, CODE_MAX, CTRL_BASE, CTRL_DUMP_PTR, DATA_BASE, DATA_SIZE, DiffCase, PATCH_MAX } from './harness.js';

// ---- PRNG --------------------------------------------------------------------------------------------

/** sfc32: small, fast, good enough for test generation. */
export class Rng {
  private a: number; private b: number; private c: number; private d: number;
  constructor(seed: number, family: string, index: number) {
    let h = 0x811c9dc5 ^ seed;
    for (const ch of `${family}:${index}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
    this.a = seed >>> 0; this.b = h >>> 0; this.c = (index * 0x9e3779b9) >>> 0; this.d = 1;
    for (let i = 0; i < 16; i++) this.u32();
  }
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  /** Integer in [0, n). */
  int(n: number): number { return Math.floor((this.u32() / 4294967296) * n); }
  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number { return lo + this.int(hi - lo + 1); }
  chance(p: number): boolean { return this.u32() / 4294967296 < p; }
  pick<T>(a: readonly T[]): T { return a[this.int(a.length)]!; }
  u64(): bigint { return (BigInt(this.u32()) << 32n) | BigInt(this.u32()); }
  bytes(n: number): Uint8Array { const b = new Uint8Array(n); for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff; return b; }
}

// ---- values ------------------------------------------------------------------------------------------

const SPECIAL64 = [
  0n, 1n, 2n, 3n, 0x7fn, 0x80n, 0xffn, 0x100n, 0x7fffn, 0x8000n, 0xffffn, 0x10000n, 0x7fffffffn, 0x80000000n,
  0xffffffffn, 0x100000000n, 0x7fffffffffffffffn, 0x8000000000000000n, 0xffffffffffffffffn, 0xfffffffffffffffen,
  0xffffffff80000000n, 0xffffffffffff8000n, 0xffffffffffffff80n, 0x8000000000000001n, 0x00000000ffff0000n,
];

/** An "interesting" 64-bit value: edges, small numbers, sign patterns, random. */
export function interesting64(rng: Rng): bigint {
  const k = rng.int(100);
  if (k < 30) {
    let v = rng.pick(SPECIAL64);
    if (rng.chance(0.25)) v = BigInt.asUintN(64, v + BigInt(rng.range(-2, 2)));
    return v;
  }
  if (k < 45) return BigInt.asUintN(64, BigInt(rng.range(-40, 40)));
  if (k < 55) return BigInt(rng.u32()); // zero-extended 32-bit
  if (k < 62) return BigInt.asUintN(64, BigInt(rng.u32() | 0)); // sign-extended 32-bit
  if (k < 68) return 1n << BigInt(rng.int(64));
  if (k < 72) return BigInt.asUintN(64, ~(1n << BigInt(rng.int(64))));
  if (k < 78) return BigInt(rng.u32() & 0xffff) | (rng.chance(0.5) ? 0xffffffffffff0000n : 0n);
  return rng.u64();
}

function le64(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
  return b;
}

const F64_SPECIAL = [
  0x0000000000000000n, 0x8000000000000000n, 0x3ff0000000000000n, 0xbff0000000000000n, 0x3fe0000000000000n,
  0x3ff8000000000000n, 0x4004000000000000n, 0xc004000000000000n, 0x7ff0000000000000n, 0xfff0000000000000n,
  0x7ff8000000000000n, 0xfff8000000000000n, 0x7ff4000000000000n, 0x7ff0000000000001n, 0xfff4000000000123n,
  0x0000000000000001n, 0x000fffffffffffffn, 0x8000000000000001n, 0x0010000000000000n, 0x7fefffffffffffffn,
  0xffefffffffffffffn, 0x41dfffffffc00000n, 0x41e0000000000000n, 0xc1e0000000000000n, 0xc1e0000000200000n,
  0x43e0000000000000n, 0xc3e0000000000000n, 0x43dfffffffffffffn, 0x4330000000000000n, 0x3fdfffffffffffffn,
  0x0008000000000000n, 0x36a0000000000000n, 0x47efffffe0000000n, 0x3810000000000000n, 0x380fffffffffffffn,
];
const F32_SPECIAL = [
  0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x3f000000, 0x3fc00000, 0x40200000, 0xc0200000, 0x7f800000,
  0xff800000, 0x7fc00000, 0xffc00000, 0x7fa00000, 0x7f800001, 0xffa00123, 0x00000001, 0x007fffff, 0x80000001,
  0x00800000, 0x7f7fffff, 0xff7fffff, 0x4effffff, 0x4f000000, 0xcf000000, 0x5f000000, 0xdf000000, 0x4b000000,
  0x3effffff, 0x00400000, 0x4f800000,
];

/** A random IEEE double bit pattern: specials, random normals of moderate range, integers, random bits. */
export function f64bits(rng: Rng): bigint {
  const k = rng.int(100);
  if (k < 30) return rng.pick(F64_SPECIAL);
  if (k < 55) { // moderate normal
    const e = BigInt(1023 + rng.range(-40, 40));
    return (rng.chance(0.5) ? 1n << 63n : 0n) | (e << 52n) | (rng.u64() & 0xfffffffffffffn);
  }
  if (k < 70) { const dv = new DataView(new ArrayBuffer(8)); dv.setFloat64(0, rng.range(-100000, 100000) / rng.pick([1, 1, 2, 4, 8, 10]), true); return dv.getBigUint64(0, true); }
  if (k < 80) return (rng.chance(0.5) ? 1n << 63n : 0n) | BigInt(rng.u32() & 0xfffff); // denormal
  return rng.u64();
}

export function f32bits(rng: Rng): number {
  const k = rng.int(100);
  if (k < 30) return rng.pick(F32_SPECIAL) >>> 0;
  if (k < 55) return ((rng.chance(0.5) ? 0x80000000 : 0) | ((127 + rng.range(-20, 20)) << 23) | (rng.u32() & 0x7fffff)) >>> 0;
  if (k < 70) { const dv = new DataView(new ArrayBuffer(4)); dv.setFloat32(0, rng.range(-10000, 10000) / rng.pick([1, 1, 2, 4, 8, 10]), true); return dv.getUint32(0, true); }
  if (k < 80) return ((rng.chance(0.5) ? 0x80000000 : 0) | (rng.u32() & 0x7fff)) >>> 0;
  return rng.u32();
}

/** 16 bytes for an XMM register or m128 in a flavour: f32 lanes, f64 lanes, integer edges or random. */
export function xmmValue(rng: Rng, flavour?: 'ps' | 'pd' | 'int'): Uint8Array {
  const b = new Uint8Array(16), dv = new DataView(b.buffer);
  const f = flavour ?? rng.pick(['ps', 'pd', 'int', 'int', 'rand'] as const);
  if (f === 'ps') for (let i = 0; i < 4; i++) dv.setUint32(4 * i, f32bits(rng), true);
  else if (f === 'pd') for (let i = 0; i < 2; i++) dv.setBigUint64(8 * i, f64bits(rng), true);
  else if (f === 'int') {
    const w = rng.pick([1, 2, 4, 8]);
    for (let i = 0; i < 16; i += w) {
      const v = interesting64(rng);
      for (let j = 0; j < w; j++) b[i + j] = Number((v >> BigInt(8 * j)) & 0xffn);
    }
  } else b.set(rng.bytes(16));
  return b;
}

/** An 80-bit extended value (10 bytes): specials, normals, integers, unsupported encodings. */
export function f80(rng: Rng): Uint8Array {
  const b = new Uint8Array(10), dv = new DataView(b.buffer);
  const set = (sign: number, exp: number, mant: bigint): Uint8Array => {
    dv.setBigUint64(0, BigInt.asUintN(64, mant), true); dv.setUint16(8, ((sign << 15) | exp) & 0xffff, true); return b;
  };
  const s = rng.chance(0.5) ? 1 : 0, J = 1n << 63n, frac = (): bigint => rng.u64() & (J - 1n);
  const k = rng.int(100);
  if (k < 6) return set(s, 0, 0n); // zero
  if (k < 10) return set(s, 0x7fff, J); // infinity
  if (k < 14) return set(s, 0x7fff, J | (1n << 62n) | (rng.chance(0.5) ? frac() & ((1n << 62n) - 1n) : 0n)); // QNaN
  if (k < 16) return set(s, 0x7fff, J | 1n + (frac() & ((1n << 61n) - 1n))); // SNaN
  if (k < 19) return set(s, 0, frac() | 1n); // denormal
  if (k < 20) return set(s, 0, J | frac()); // pseudo-denormal
  if (k < 21) return set(s, rng.range(1, 0x7ffe), frac()); // unnormal (unsupported)
  if (k < 35) { // integer-valued or halves
    const n = BigInt(rng.range(1, 1 << 20)) * 2n + (rng.chance(0.3) ? 1n : 0n);
    let e = 16383 + 63, m = n;
    while (!(m & J)) { m <<= 1n; e--; }
    return set(s, e - 1, m); // n/2
  }
  if (k < 45) return set(s, rng.pick([1, 2, 0x7ffe, 0x7ffd, 16383 + 63, 16383 + 62, 16383 + 31, 16383 + 15, 16383 + 64]), J | frac());
  if (k < 55) { // exactly a double
    const v = f64bits(rng), sg = Number(v >> 63n), e = Number((v >> 52n) & 0x7ffn), m = v & 0xfffffffffffffn;
    if (e === 0 || e === 0x7ff) return set(sg, e === 0 ? 0 : 0x7fff, e === 0 ? 0n : J | (m << 11n));
    return set(sg, e - 1023 + 16383, J | (m << 11n));
  }
  return set(s, 16383 + rng.range(-70, 70), J | frac());
}

// ---- registers ---------------------------------------------------------------------------------------

const R8 = [Register.AL, Register.CL, Register.DL, Register.BL, Register.SPL, Register.BPL, Register.SIL, Register.DIL,
  Register.R8L, Register.R9L, Register.R10L, Register.R11L, Register.R12L, Register.R13L, Register.R14L, Register.R15L];
const R8H = [Register.AH, Register.CH, Register.DH, Register.BH];

function gprOf(r: Register): number {
  if (r >= Register.AL && r <= Register.BL) return r - Register.AL;
  if (r >= Register.AH && r <= Register.BH) return r - Register.AH;
  if (r >= Register.SPL && r <= Register.R15L) return r - Register.SPL + 4;
  if (r >= Register.AX && r <= Register.R15W) return r - Register.AX;
  if (r >= Register.EAX && r <= Register.R15D) return r - Register.EAX;
  if (r >= Register.RAX && r <= Register.R15) return r - Register.RAX;
  return -1;
}

function regOfSize(n: number, size: number): Register {
  if (size === 1) return R8[n]!;
  if (size === 2) return Register.AX + n;
  if (size === 4) return Register.EAX + n;
  return Register.RAX + n;
}

// ---- code lists --------------------------------------------------------------------------------------

interface CodeInfo {
  code: number;
  name: string;
  mnemonic: string;
  kinds: number[];
  memSize: number;
  lockable: boolean;
}

const infoCache = new Map<number, CodeInfo>();
export function codeInfo(code: number): CodeInfo {
  let ci = infoCache.get(code);
  if (!ci) {
    const oi = CodeExt.opCode(code);
    const kinds: number[] = [];
    for (let i = 0; i < oi.opCount; i++) kinds.push(oi.opKind(i));
    ci = {
      code, name: Code[code]!, mnemonic: Mnemonic[oi.mnemonic]!, kinds,
      memSize: oi.memorySize === MemorySize.Unknown ? 0 : MemorySizeExt.size(oi.memorySize), lockable: oi.canUseLockPrefix,
    };
    oi.free();
    infoCache.set(code, ci);
  }
  return ci;
}

const SUPPORTED_KINDS = new Set<number>([
  K.r8_or_mem, K.r16_or_mem, K.r32_or_mem, K.r64_or_mem, K.xmm_or_mem, K.mem, K.mem_offs,
  K.r8_reg, K.r8_opcode, K.r16_reg, K.r16_rm, K.r16_opcode, K.r32_reg, K.r32_rm, K.r32_opcode,
  K.r64_reg, K.r64_rm, K.r64_opcode, K.xmm_reg, K.xmm_rm, K.mm_reg, K.mm_rm, K.mm_or_mem, K.al, K.cl, K.ax, K.dx, K.eax, K.rax, K.st0, K.sti_opcode,
  K.imm8, K.imm8_const_1, K.imm8sex16, K.imm8sex32, K.imm8sex64, K.imm16, K.imm32, K.imm32sex64, K.imm64,
  K.br64_1, K.br64_4, K.br32_1, K.br32_4, K.r32_vvvv, K.r64_vvvv,
  K.xmm_vvvv, K.ymm_reg, K.ymm_rm, K.ymm_vvvv, K.ymm_or_mem,
]);

let allCodes: number[] | undefined;
/** All legacy-encoded Codes valid in 64-bit mode with operand kinds the generator supports. */
function legacyCodes(): number[] {
  if (allCodes) return allCodes;
  allCodes = [];
  for (const [name, v] of Object.entries(Code)) {
    if (typeof v !== 'number' || name === 'INVALID') continue;
    let oi;
    try { oi = CodeExt.opCode(v); } catch { continue; }
    const ok = oi.mode64 && oi.encoding === EncodingKind.Legacy && oi.isInstruction && oi.decoderOption === 0;
    const kinds: number[] = [];
    for (let i = 0; i < oi.opCount; i++) kinds.push(oi.opKind(i));
    oi.free();
    if (ok && kinds.every((k) => SUPPORTED_KINDS.has(k))) allCodes.push(v);
  }
  return allCodes;
}

let allVex: number[] | undefined;
/** All VEX-encoded Codes valid in 64-bit mode with operand kinds the generator supports. */
function vexCodes(): number[] {
  if (allVex) return allVex;
  allVex = [];
  for (const [name, v] of Object.entries(Code)) {
    if (typeof v !== 'number' || !name.startsWith('VEX_')) continue;
    let oi;
    try { oi = CodeExt.opCode(v); } catch { continue; }
    const ok = oi.mode64 && oi.encoding === EncodingKind.VEX && oi.isInstruction && oi.decoderOption === 0;
    const kinds: number[] = [];
    for (let i = 0; i < oi.opCount; i++) kinds.push(oi.opKind(i));
    oi.free();
    if (ok && kinds.every((k) => SUPPORTED_KINDS.has(k))) allVex.push(v);
  }
  return allVex;
}

/** Codes whose mnemonic matches. */
function byMnemonic(re: RegExp, exclude: RegExp = /^$/): number[] {
  return legacyCodes().filter((c) => { const i = codeInfo(c); return re.test(i.mnemonic) && !exclude.test(i.name); });
}

// ---- case building context ---------------------------------------------------------------------------

export class Retry extends Error {}

/** One instruction of a case: a function that builds it given the exit addresses (for branches). */
type Make = (exitAddr: (k: number) => bigint) => Instruction;

export interface MemOpts {
  /** Required alignment (the address is a multiple of it with probability alignP). */
  align?: number;
  alignP?: number;
  /** Bytes to store at the address (default: random interesting). */
  fill?: Uint8Array;
  /** 32-bit address size allowed. */
  addr32?: boolean;
  /** Base register may be RSP. */
  allowRsp?: boolean;
  /** Registers the address may not use. */
  avoid?: number[];
  /** Allow edge cases (page-straddling, non-canonical); default true. */
  edges?: boolean;
}

/** Creates a memory operand (iced consumes MemoryOperand objects, so each use needs a fresh one). */
export type MemSpec = () => MemoryOperand;

/** Mutable state of a case under construction. */
export class Ctx {
  readonly gpr: bigint[] = [];
  rflags: number;
  readonly fx = new Uint8Array(512);
  /** Bits 255:128 of YMM0..15 (set by the AVX families; undefined: zero). */
  ymmh: Uint8Array | undefined;
  readonly patches: [number, Uint8Array][] = [];
  readonly makes: Make[] = [];
  /** Registers whose value is fixed by an operand (base/index, count...): number -> value. */
  readonly pinned = new Map<number, bigint>();
  /** Registers that earlier instructions of the sequence use as addresses (later ones must not write them). */
  readonly addrRegs = new Set<number>();
  undefFsw = 0;
  /** Per instruction index: how to turn the emulator's bytes into the host's bytes (see the bit family). */
  readonly nativeXform = new Map<number, (b: Uint8Array) => void>();
  /** Per instruction index: RFLAGS bits undefined beyond what iced reports (value-dependent SDM rules). */
  readonly undefPer = new Map<number, number>();
  /** Callbacks run once the exit addresses are known (indirect branch targets, return addresses). */
  readonly late: ((exitAddr: (k: number) => bigint) => void)[] = [];
  /** Data-region offset of the last memory operand created. */
  lastMemOff = 0;
  exitsBefore = 0; // number of exit stubs placed before the entry (backward branches)
  selfModifying = false;
  nExits = 1;
  seq = false;

  constructor(readonly rng: Rng, readonly family: string, readonly index: number) {
    for (let i = 0; i < 16; i++) this.gpr.push(interesting64(rng));
    this.gpr[4] = BigInt(DATA_BASE + 0x3000 + 8 * rng.range(-64, 64) + (rng.chance(0.1) ? rng.range(1, 7) : 0));
    this.rflags = 0x202 | (rng.u32() & 0x8d5);
    const dv = new DataView(this.fx.buffer);
    dv.setUint16(0, 0x37f, true); // FCW
    dv.setUint32(24, 0x1f80, true); // MXCSR
    dv.setUint32(28, 0xffff, true); // MXCSR_MASK (ignored by FXRSTOR)
    for (let i = 0; i < 16; i++) this.fx.set(xmmValue(rng), 160 + 16 * i);
  }

  pin(n: number, v: bigint): void {
    v = BigInt.asUintN(64, v);
    const old = this.pinned.get(n);
    if (old !== undefined && old !== v) throw new Retry();
    this.pinned.set(n, v);
    this.gpr[n] = v;
  }

  /** Patch the data region at offset (relative to DATA_BASE). */
  patch(off: number, bytes: Uint8Array): void {
    if (off < 0 || off + bytes.length > DATA_SIZE) throw new Retry();
    this.patches.push([off, bytes]);
  }

  /** A random register number, avoiding pinned/reserved ones when asked. */
  reg(opts: { avoid?: Iterable<number>; allowRsp?: boolean } = {}): number {
    const avoid = new Set(opts.avoid ?? []);
    if (!opts.allowRsp) avoid.add(4);
    for (let t = 0; t < 50; t++) {
      const n = this.rng.int(16);
      if (!avoid.has(n)) return n;
    }
    throw new Retry();
  }

  /**
   * A memory operand addressing `size` bytes at a random address in the data region (filled with
   * `fill` or random bytes); sets the base/index registers accordingly.
   */
  mem(size: number, o: MemOpts = {}): MemSpec {
    const rng = this.rng;
    const align = o.align ?? 1;
    let off = rng.range(0x400, 0x2c00);
    if (align > 1 && rng.chance(o.alignP ?? 0.9)) off &= ~(align - 1);
    const fill = o.fill ?? this.randomBytes(Math.max(size, 1));
    // rare edge cases in single-instruction cases: an access that straddles the end or the start of the
    // mapped data region (#PF, nothing may be written), or a non-canonical address (#GP, #SS for RSP/RBP)
    const edge = o.edges === false || this.seq || !rng.chance(0.04) ? 0 : size >= 2 && rng.chance(0.6) ? rng.range(1, 2) : 3;
    if (edge === 0 && size >= 2 && rng.chance(0.04)) off = 0x1000 * rng.range(1, 3) - rng.range(1, size - 1); // crosses a page inside the region
    if (edge === 1) off = DATA_SIZE - rng.range(1, size - 1);
    else if (edge === 2) off = -rng.range(1, size - 1);
    if (edge === 1) this.patch(off, fill.subarray(0, DATA_SIZE - off));
    else if (edge === 2) this.patch(0, fill.subarray(-off));
    else this.patch(off, fill);
    this.lastMemOff = off;
    const A = BigInt(DATA_BASE + off);
    const nc = edge === 3 ? 1n << BigInt(rng.range(48, 62)) : 0n; // A + nc: bit 63 clear, a bit in 48..62 set
    const avoid = [...(o.avoid ?? []), ...this.writtenRegs];
    if (this.seq) avoid.push(0, 1, 2, 4, 6, 7); // implicitly written by many instructions of a sequence
    const form = edge === 3 ? 100 : rng.int(100);
    if (form < 10) return () => new MemoryOperand(Register.RIP, Register.None, 1, A, 8, false, Register.None);
    if (form < 16) return () => new MemoryOperand(Register.None, Register.None, 1, A, 8, false, Register.None); // [disp32] via SIB
    const a32 = o.addr32 !== false && edge !== 3 && rng.chance(0.06);
    // a GS override: the GS base is 0 natively (Linux user space) and in the emulator
    const seg = rng.chance(0.04) ? Register.GS : Register.None;
    const base = this.reg({ avoid, allowRsp: o.allowRsp ?? rng.chance(0.1) });
    const dispKind = rng.int(3);
    const disp = dispKind === 0 ? 0n : dispKind === 1 ? BigInt(rng.range(-128, 127)) : BigInt(rng.range(-0x800000, 0x800000));
    const dsz = dispKind === 0 ? 0 : dispKind === 1 ? 1 : 4;
    if (rng.chance(0.3)) {
      const index = this.reg({ avoid: [...avoid, base] });
      const scale = rng.pick([1, 2, 4, 8]);
      const iv = rng.chance(0.5) ? BigInt(rng.range(-64, 64)) : BigInt(rng.u32() | 0);
      let bv = A + nc - disp - iv * BigInt(scale);
      if (a32) {
        this.pin(index, (rng.u64() & 0xffffffff00000000n) | BigInt.asUintN(32, iv));
        bv = BigInt.asUintN(32, bv);
        this.pin(base, (rng.u64() & 0xffffffff00000000n) | bv);
      } else { this.pin(index, iv); this.pin(base, bv); }
      this.addrRegs.add(base); this.addrRegs.add(index);
      const r = a32 ? Register.EAX : Register.RAX;
      return () => new MemoryOperand(r + base, r + index, scale, disp, dsz, false, seg);
    }
    const bv = A + nc - disp;
    if (a32) this.pin(base, (rng.u64() & 0xffffffff00000000n) | BigInt.asUintN(32, bv));
    else this.pin(base, bv);
    this.addrRegs.add(base);
    return () => new MemoryOperand((a32 ? Register.EAX : Register.RAX) + base, Register.None, 1, disp, dsz, false, seg);
  }

  /** Registers written by instructions already in the sequence (may not serve as addresses later). */
  readonly writtenRegs = new Set<number>();

  randomBytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i += 8) b.set(le64(interesting64(this.rng)).subarray(0, Math.min(8, n - i)), i);
    return b;
  }

  add(make: Make): void { this.makes.push(make); }

  /** The last added instruction writes no flags (a shift or rotate by a masked count of 0). */
  noWriteLast(): void { this.noWrite.add(this.makes.length - 1); }
  readonly noWrite = new Set<number>();

  /** Mark flags undefined after the last added instruction (SDM value-dependent rules). */
  undefLast(mask: number): void {
    const i = this.makes.length - 1;
    this.undefPer.set(i, (this.undefPer.get(i) ?? 0) | mask);
  }
}

// ---- generic operand generation ----------------------------------------------------------------------

/** Per-family knobs of the generic instruction generator. */
export interface Knobs {
  /** Probability that an r/m operand is memory. */
  memP?: number;
  /** Immediate value for an operand kind. */
  imm?: (ctx: Ctx, ci: CodeInfo, kind: number) => number | bigint | undefined;
  /** Memory operand options. */
  memOpts?: (ctx: Ctx, ci: CodeInfo) => MemOpts;
  /** Allow RSP as a register operand. */
  allowRsp?: boolean;
  /** Called with the chosen registers (per operand, -1 if not a GPR) before the instruction is created. */
  after?: (ctx: Ctx, ci: CodeInfo, regs: Register[], memUsed: boolean) => void;
  /** Lock prefix probability for lockable memory forms. */
  lockP?: number;
}

function immFor(ctx: Ctx, kind: number): number | bigint {
  const rng = ctx.rng;
  const v = interesting64(rng);
  switch (kind) {
    case K.imm8: return Number(v & 0xffn);
    case K.imm8sex16: case K.imm8sex32: case K.imm8sex64: return Number(BigInt.asIntN(8, v));
    case K.imm16: return Number(v & 0xffffn);
    case K.imm32: return Number(v & 0xffffffffn);
    case K.imm32sex64: return Number(BigInt.asIntN(32, v));
    case K.imm64: return v;
    case K.imm8_const_1: return 1;
    default: return 0;
  }
}

const SIGNED_IMM = new Set<number>([K.imm8sex16, K.imm8sex32, K.imm8sex64, K.imm32sex64]);

/** Build one instruction of Code `code` with random operands. */
export function randomInsn(ctx: Ctx, code: number, kn: Knobs = {}): Make {
  const ci = codeInfo(code), rng = ctx.rng;
  type Op = { t: 'R'; r: Register } | { t: 'M'; m: MemSpec } | { t: 'I'; v: number | bigint; signed: boolean; k: number } | { t: 'B' };
  const ops: Op[] = [];
  let memUsed = false;
  const regs: Register[] = [];
  const avoid = [...ctx.addrRegs];
  const memP = kn.memP ?? 0.35;
  const allowRsp = kn.allowRsp ?? rng.chance(0.05);
  const gp = (size: number): Register => {
    if (size === 1 && rng.chance(0.15)) return rng.pick(R8H);
    return regOfSize(ctx.reg({ avoid, allowRsp }), size);
  };
  const memo = (): MemOpts => { const o = kn.memOpts?.(ctx, ci) ?? {}; return { ...o, avoid: [...avoid, ...(o.avoid ?? [])] }; };
  for (const k of ci.kinds) {
    switch (k) {
      case K.r8_or_mem: case K.r16_or_mem: case K.r32_or_mem: case K.r64_or_mem: case K.xmm_or_mem: case K.mm_or_mem: case K.ymm_or_mem: {
        if (!memUsed && rng.chance(memP)) { ops.push({ t: 'M', m: ctx.mem(ci.memSize || 8, memo()) }); memUsed = true; regs.push(Register.None); break; }
        const r = k === K.xmm_or_mem ? Register.XMM0 + rng.int(16) : k === K.ymm_or_mem ? Register.YMM0 + rng.int(16) : k === K.mm_or_mem ? Register.MM0 + rng.int(8) : gp(k === K.r8_or_mem ? 1 : k === K.r16_or_mem ? 2 : k === K.r32_or_mem ? 4 : 8);
        ops.push({ t: 'R', r }); regs.push(r); break;
      }
      case K.mem: ops.push({ t: 'M', m: ctx.mem(ci.memSize || 8, memo()) }); memUsed = true; regs.push(Register.None); break;
      case K.mem_offs: {
        const off = rng.range(0x400, 0x2c00);
        ctx.patch(off, ctx.randomBytes(8));
        ops.push({ t: 'M', m: () => new MemoryOperand(Register.None, Register.None, 1, BigInt(DATA_BASE + off), 8, false, Register.None) });
        memUsed = true; regs.push(Register.None); break;
      }
      case K.r8_reg: case K.r8_opcode: { const r = gp(1); ops.push({ t: 'R', r }); regs.push(r); break; }
      case K.r16_reg: case K.r16_rm: case K.r16_opcode: { const r = gp(2); ops.push({ t: 'R', r }); regs.push(r); break; }
      case K.r32_reg: case K.r32_rm: case K.r32_opcode: case K.r32_vvvv: { const r = gp(4); ops.push({ t: 'R', r }); regs.push(r); break; }
      case K.r64_reg: case K.r64_rm: case K.r64_opcode: case K.r64_vvvv: { const r = gp(8); ops.push({ t: 'R', r }); regs.push(r); break; }
      case K.xmm_reg: case K.xmm_rm: case K.xmm_vvvv: { const r = Register.XMM0 + rng.int(16); ops.push({ t: 'R', r }); regs.push(r); break; }
      case K.ymm_reg: case K.ymm_rm: case K.ymm_vvvv: { const r = Register.YMM0 + rng.int(16); ops.push({ t: 'R', r }); regs.push(r); break; }
      case K.mm_reg: case K.mm_rm: { const r = Register.MM0 + rng.int(8); ops.push({ t: 'R', r }); regs.push(r); break; }
      case K.al: ops.push({ t: 'R', r: Register.AL }); regs.push(Register.AL); break;
      case K.cl: ops.push({ t: 'R', r: Register.CL }); regs.push(Register.CL); break;
      case K.ax: ops.push({ t: 'R', r: Register.AX }); regs.push(Register.AX); break;
      case K.dx: ops.push({ t: 'R', r: Register.DX }); regs.push(Register.DX); break;
      case K.eax: ops.push({ t: 'R', r: Register.EAX }); regs.push(Register.EAX); break;
      case K.rax: ops.push({ t: 'R', r: Register.RAX }); regs.push(Register.RAX); break;
      case K.st0: ops.push({ t: 'R', r: Register.ST0 }); regs.push(Register.ST0); break;
      case K.sti_opcode: { const r = Register.ST0 + rng.int(8); ops.push({ t: 'R', r }); regs.push(r); break; }
      case K.br64_1: case K.br64_4: case K.br32_1: case K.br32_4: ops.push({ t: 'B' }); regs.push(Register.None); break;
      default: {
        const v = kn.imm?.(ctx, ci, k) ?? immFor(ctx, k);
        ops.push({ t: 'I', v, signed: SIGNED_IMM.has(k), k }); regs.push(Register.None);
      }
    }
  }
  kn.after?.(ctx, ci, regs, memUsed);
  const lock = memUsed && ci.lockable && rng.chance(kn.lockP ?? 0);
  const sig = ops.map((o) => o.t).join('');
  const R = (i: number): Register => (ops[i] as { r: Register }).r;
  const M = (i: number): MemoryOperand => (ops[i] as { m: MemSpec }).m();
  const I = (i: number): number => Number((ops[i] as { v: number }).v);
  const S = (i: number): boolean => (ops[i] as { signed: boolean }).signed;
  const I64 = (i: number): bigint => BigInt((ops[i] as { v: bigint }).v);
  const make: Make = (exitAddr) => {
    let ins: Instruction;
    switch (sig) {
      case '': ins = Instruction.create(code); break;
      case 'R': ins = Instruction.createReg(code, R(0)); break;
      case 'M': ins = Instruction.createMem(code, M(0)); break;
      case 'I': ins = S(0) ? Instruction.createI32(code, I(0)) : Instruction.createU32(code, I(0)); break;
      case 'II': ins = Instruction.createU32U32(code, I(0), I(1)); break;
      case 'IR': ins = Instruction.createU32Reg(code, I(0), R(1)); break;
      case 'RR': ins = Instruction.createRegReg(code, R(0), R(1)); break;
      case 'RM': ins = Instruction.createRegMem(code, R(0), M(1)); break;
      case 'MR': ins = Instruction.createMemReg(code, M(0), R(1)); break;
      case 'RI':
        if ((ops[1] as { k: number }).k === K.imm64) ins = Instruction.createRegU64(code, R(0), I64(1));
        else ins = S(1) ? Instruction.createRegI32(code, R(0), I(1)) : Instruction.createRegU32(code, R(0), I(1));
        break;
      case 'MI': ins = S(1) ? Instruction.createMemI32(code, M(0), I(1)) : Instruction.createMemU32(code, M(0), I(1)); break;
      case 'RRI': ins = S(2) ? Instruction.createRegRegI32(code, R(0), R(1), I(2)) : Instruction.createRegRegU32(code, R(0), R(1), I(2)); break;
      case 'RMI': ins = S(2) ? Instruction.createRegMemI32(code, R(0), M(1), I(2)) : Instruction.createRegMemU32(code, R(0), M(1), I(2)); break;
      case 'MRI': ins = S(2) ? Instruction.createMemRegI32(code, M(0), R(1), I(2)) : Instruction.createMemRegU32(code, M(0), R(1), I(2)); break;
      case 'RRR': ins = Instruction.createRegRegReg(code, R(0), R(1), R(2)); break;
      case 'MRR': ins = Instruction.createMemRegReg(code, M(0), R(1), R(2)); break;
      case 'RRRI': ins = Instruction.createRegRegRegU32(code, R(0), R(1), R(2), I(3)); break;
      case 'RRMI': ins = Instruction.createRegRegMemU32(code, R(0), R(1), M(2), I(3)); break;
      case 'RMR': ins = Instruction.createRegMemReg(code, R(0), M(1), R(2)); break;
      case 'RRM': ins = Instruction.createRegRegMem(code, R(0), R(1), M(2)); break;
      case 'B': ins = Instruction.createBranch(code, exitAddr(1)); break;
      default: throw new Error(`generator: no create() for operand signature ${sig} (${ci.name})`);
    }
    if (lock) ins.hasLockPrefix = true;
    return ins;
  };
  ctx.add(make);
  // registers this instruction may write (conservatively: every GPR register operand) — later instructions
  // of a sequence must not use them as addresses
  for (const r of regs) { const n = gprOf(r); if (n >= 0) ctx.writtenRegs.add(n); }
  return make;
}

// ---- assembling a case -------------------------------------------------------------------------------

const STUB = 16;
function stub(at: number, k: number): Uint8Array {
  const b = new Uint8Array(STUB), dv = new DataView(b.buffer);
  b[0] = 0xc7; b[1] = 0x05; dv.setInt32(2, CTRL_BASE - (CODE_BASE + at + 10), true); dv.setUint32(6, k, true);
  b[10] = 0xff; b[11] = 0x25; dv.setInt32(12, CTRL_DUMP_PTR - (CODE_BASE + at + 16), true);
  return b;
}

const formatter = new Formatter(FormatterSyntax.Intel);
formatter.uppercaseHex = false;
formatter.hexPrefix = '0x';
formatter.hexSuffix = '';
const encoder = new Encoder(64);

function encodeAt(ins: Instruction, at: number): Uint8Array {
  try {
    encoder.encode(ins, BigInt(CODE_BASE + at));
  } catch (e) {
    encoder.takeBuffer();
    throw new Retry(String(e));
  }
  return encoder.takeBuffer();
}

/** Per-instruction info from decoding the final bytes. */
interface InsnFacts { text: string; undef: number; written: number; read: number; code: number; mnemonic: string; length: number }

function decodeFacts(bytes: Uint8Array, at: number): InsnFacts {
  const d = new Decoder(64, bytes, 0);
  d.ip = BigInt(CODE_BASE + at);
  const ins = d.decode();
  const hex = Array.from(bytes.subarray(0, ins.length), (x) => x.toString(16).padStart(2, '0')).join(' ');
  const f: InsnFacts = {
    text: `${formatter.format(ins)}  ; ${hex}`, undef: archFlags(ins.rflagsUndefined),
    written: archFlags(ins.rflagsModified) & ~archFlags(ins.rflagsUndefined), read: archFlags(ins.rflagsRead),
    code: ins.code, mnemonic: Mnemonic[ins.mnemonic]!, length: Math.max(1, ins.length),
  };
  ins.free(); d.free();
  return f;
}

/** x87 condition-code handling per mnemonic: [C-bits left undefined, C-bits defined]. */
export function x87Cc(mn: string): [number, number] {
  const C0 = 0x100, C1 = 0x200, C2 = 0x400, C3 = 0x4000, ALL = C0 | C1 | C2 | C3;
  if (/^(Fcom|Fcomp|Fcompp|Fucom|Fucomp|Fucompp|Ficom|Ficomp|Ftst|Fxam|Fprem|Fprem1|Fninit|Finit)$/.test(mn)) return [0, ALL];
  if (/^(Fcomi|Fcomip|Fucomi|Fucomip)$/.test(mn)) return [0, C1];
  if (/^(Fsin|Fcos|Fsincos|Fptan)$/.test(mn)) return [C0 | C3, C1 | C2];
  // FFREEP (undocumented) as FFREE; the 8087/287 leftovers FENI/FDISI/FSETPM execute as FNOP
  if (/^(Fldcw|Fnstcw|Fstcw|Fnstsw|Fstsw|Fnop|Fnclex|Fclex|Ffree|Ffreep|Wait|Fneni|Feni|Fndisi|Fdisi|Fnsetpm|Fsetpm)$/.test(mn)) return [ALL, 0];
  if (/^F/.test(mn)) return [C0 | C2 | C3, C1];
  return [0, 0];
}

/** Turn a Ctx into a DiffCase (encodes the instructions, places the exit stubs). */
export function finish(ctx: Ctx): DiffCase {
  const rng = ctx.rng;
  const nEx = ctx.nExits;
  // pass 1: lengths (branch targets provisional)
  const provisional = (): bigint => BigInt(CODE_BASE + 0x100);
  let lens = ctx.makes.map((mk) => encodeAt(mk(provisional), 0x100).length);
  const total = lens.reduce((a, b) => a + b, 0);
  const before = ctx.exitsBefore;
  const entry = 0x20 + before * STUB + rng.int(32);
  const layout = (): { exitOff: number[] } => {
    const exitOff: number[] = [];
    let p = entry + total;
    exitOff[0] = p; p += STUB;
    let q = 0x10;
    for (let k = 1; k < nEx; k++) {
      if (k <= before) { exitOff[k] = q; q += STUB; } else { exitOff[k] = p; p += STUB; }
    }
    return { exitOff };
  };
  const { exitOff } = layout();
  const exitAddr = (k: number): bigint => BigInt(CODE_BASE + exitOff[Math.min(k, nEx - 1)]!);
  for (const f of ctx.late) f(exitAddr);
  const code = new Uint8Array(Math.max(...exitOff) + STUB).fill(0xcc);
  let at = entry;
  const facts: InsnFacts[] = [];
  const native: Uint8Array[] = [];
  const startOf = new Map<number, number>(); // code offset -> make index
  ctx.makes.forEach((mk, i) => {
    const b = encodeAt(mk(exitAddr), at);
    if (b.length !== lens[i]) throw new Retry('length changed');
    code.set(b, at);
    startOf.set(at, i);
    native.push(b);
    at += b.length;
  });
  lens = [];
  // the executed instructions, decoded from the final bytes (raw byte makes may hold several, or parts)
  const undefAt: number[] = [], silent: boolean[] = [];
  for (let p = entry; p < entry + total;) {
    const f = decodeFacts(code.subarray(p, Math.min(p + 15, entry + total)), p);
    facts.push(f);
    const mi = startOf.get(p);
    undefAt.push(mi === undefined ? 0 : ctx.undefPer.get(mi) ?? 0);
    silent.push(mi !== undefined && ctx.noWrite.has(mi));
    p += f.length;
  }
  for (let k = 0; k < nEx; k++) code.set(stub(exitOff[k]!, k), exitOff[k]!);
  if (code.length > CODE_MAX) throw new Retry('code too long');
  // flags: undefined ones accumulate; a later instruction reading an undefined flag invalidates the case
  let undef = 0, fsw = 0;
  for (const [i, f] of facts.entries()) {
    if (f.read & undef) throw new Retry('reads an undefined flag');
    undef = (silent[i] ? undef : (undef & ~f.written) | f.undef) | undefAt[i]!;
    const [u, d] = x87Cc(f.mnemonic);
    fsw = (fsw & ~d) | u;
  }
  let nativeCode: Uint8Array | undefined;
  if (ctx.nativeXform.size) {
    nativeCode = code.slice();
    let start = entry;
    native.forEach((b, i) => {
      ctx.nativeXform.get(i)?.(nativeCode!.subarray(start, start + b.length));
      start += b.length;
    });
  }
  let plen = 0;
  for (const [, b] of ctx.patches) plen += 4 + b.length;
  if (plen > PATCH_MAX) throw new Retry('patches too large');
  return {
    family: ctx.family, index: ctx.index, gpr: ctx.gpr.slice(), rflags: ctx.rflags, fx: ctx.fx, ymmh: ctx.ymmh, entry, code, nativeCode,
    exits: exitOff.slice(0, nEx), patches: ctx.patches, undefFlags: undef, undefFsw: fsw | ctx.undefFsw,
    asm: facts.map((f) => f.text), selfModifying: ctx.selfModifying,
  };
}

export { Code, CpuidFeature, K, Register, RepPrefixKind, byMnemonic, codeInfo as info, gprOf, le64, legacyCodes, regOfSize, vexCodes };
export type { CodeInfo };
