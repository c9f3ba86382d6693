// Operand access shared by every instruction family: effective addresses, GPR reads and writes by width
// (with the x86 aliasing and zero-extension rules), and generic readers/writers for r/m and immediates.
import type { Cpu, Exec } from './cpu.js';
import { Decoded, MemRef, OpType, RegClass, RegRef } from './decoded.js';
import { Fault, Vector } from './fault.js';
import { Off } from './state.js';

/** Computes an effective linear address: returns the lo half and leaves the hi half in c.hi. */
export type Ea = (c: Cpu) => number;

const FS_BASE = Off.FS_BASE >> 2;
const GS_BASE = Off.GS_BASE >> 2;

/** Build the effective-address function of a memory operand. */
export function eaOf(m: MemRef): Ea {
  const { base, index, scale, dispLo, dispHi, seg, addr32 } = m;
  const bl = base << 1, il = index << 1;
  const sb = seg === 4 ? FS_BASE : seg === 5 ? GS_BASE : -1;
  let f: Ea;
  if (base < 0 && index < 0) {
    f = (c) => { c.hi = dispHi; return dispLo; };
  } else if (index < 0) {
    f = (c) => {
      const r = c.r, s = r[bl]! + dispLo;
      c.hi = (r[bl + 1]! + dispHi + (s > 0xffffffff ? 1 : 0)) >>> 0;
      return s >>> 0;
    };
  } else if (base < 0) {
    f = (c) => {
      const r = c.r, s = r[il]! * scale + dispLo;
      c.hi = (r[il + 1]! * scale + dispHi + Math.floor(s / 4294967296)) >>> 0;
      return s >>> 0;
    };
  } else {
    f = (c) => {
      const r = c.r, s = r[bl]! + r[il]! * scale + dispLo;
      c.hi = (r[bl + 1]! + r[il + 1]! * scale + dispHi + Math.floor(s / 4294967296)) >>> 0;
      return s >>> 0;
    };
  }
  if (sb >= 0) {
    const inner = f;
    f = (c) => {
      const lo = inner(c), hi = c.hi, r = c.r, s = lo + r[sb]!;
      c.hi = (hi + r[sb + 1]! + (s > 0xffffffff ? 1 : 0)) >>> 0;
      return s >>> 0;
    };
  }
  if (addr32) {
    // 32-bit address size: the address wraps at 4 GiB (with FS/GS the base is added first; compilers never emit that)
    const inner = f;
    f = (c) => { const lo = inner(c); c.hi = 0; return lo; };
  }
  return f;
}

/** The memory operand of an instruction, or a thrown error naming the missing operand (a table bug). */
export function memOf(d: Decoded): MemRef {
  if (!d.mem) throw new Error(`instruction ${d.code} has no memory operand`);
  return d.mem;
}

/** The register operand `i`, or a thrown error (a table bug). */
export function regOf(d: Decoded, i: number): RegRef {
  const r = d.regs[i];
  if (!r) throw new Error(`instruction ${d.code} operand ${i} is not a register`);
  return r;
}

// ---- GPR access ------------------------------------------------------------------------------

/** Read a GPR of size 1/2/4 bytes (zero-extended). */
export function getGpr(c: Cpu, ref: RegRef): number {
  const s = c.s;
  switch (ref.size) {
    case 1: return s.u8[(ref.n << 3) + (ref.high8 ? 1 : 0)]!;
    case 2: return s.u16[ref.n << 2]!;
    default: return c.r[ref.n << 1]!;
  }
}

/** Write a GPR of size 1/2/4 bytes with x86 rules (32-bit writes clear the hi half; 8/16-bit merge). */
export function setGpr(c: Cpu, ref: RegRef, v: number): void {
  const s = c.s;
  switch (ref.size) {
    case 1: s.u8[(ref.n << 3) + (ref.high8 ? 1 : 0)] = v; return;
    case 2: s.u16[ref.n << 2] = v; return;
    default: c.r[ref.n << 1] = v; c.r[(ref.n << 1) | 1] = 0;
  }
}

/** A reader for a 1/2/4-byte GPR bound at build time. */
export function gprReader(ref: RegRef): (c: Cpu) => number {
  const n = ref.n;
  switch (ref.size) {
    case 1: { const i = (n << 3) + (ref.high8 ? 1 : 0); return (c) => c.s.u8[i]!; }
    case 2: { const i = n << 2; return (c) => c.s.u16[i]!; }
    default: { const i = n << 1; return (c) => c.r[i]!; }
  }
}

/** A writer for a 1/2/4-byte GPR bound at build time (32-bit writes zero the hi half). */
export function gprWriter(ref: RegRef): (c: Cpu, v: number) => void {
  const n = ref.n;
  switch (ref.size) {
    case 1: { const i = (n << 3) + (ref.high8 ? 1 : 0); return (c, v) => { c.s.u8[i] = v; }; }
    case 2: { const i = n << 2; return (c, v) => { c.s.u16[i] = v; }; }
    default: { const i = n << 1; return (c, v) => { c.r[i] = v; c.r[i + 1] = 0; }; }
  }
}

// ---- generic r/m/imm access for sizes 1, 2, 4 (a single number) ------------------------------

/** Read memory of 1/2/4 bytes. */
export function rdN(c: Cpu, lo: number, hi: number, size: number): number {
  return size === 4 ? c.rd32(lo, hi) : size === 2 ? c.rd16(lo, hi) : c.rd8(lo, hi);
}

/** Read 1/2/4 bytes for a read-modify-write (translated for writing). */
export function rmwN(c: Cpu, lo: number, hi: number, size: number): number {
  return size === 4 ? c.rmw32(lo, hi) : size === 2 ? c.rmw16(lo, hi) : c.rmw8(lo, hi);
}

/** A 64-bit memory read (lo returned, hi in c.hi), as a function value. */
export function rd64(c: Cpu, lo: number, hi: number): number {
  return c.rd64(lo, hi);
}

/** A 64-bit read-modify-write read, as a function value. */
export function rmw64Read(c: Cpu, lo: number, hi: number): number {
  return c.rmw64(lo, hi);
}

/** Write memory of 1/2/4 bytes. */
export function wrN(c: Cpu, lo: number, hi: number, size: number, v: number): void {
  if (size === 4) c.wr32(lo, hi, v); else if (size === 2) c.wr16(lo, hi, v); else c.wr8(lo, hi, v);
}

/** A reader for operand `i` (REG, MEM or IMM) of 1/2/4 bytes, truncated to `size`. */
export function reader(d: Decoded, i: number, size: number): (c: Cpu) => number {
  const t = d.ops[i];
  if (t === OpType.REG) return gprReader(regOf(d, i));
  if (t === OpType.IMM) {
    const v = size === 4 ? d.immLo >>> 0 : d.immLo & (size === 2 ? 0xffff : 0xff);
    return () => v;
  }
  const ea = eaOf(memOf(d));
  if (size === 4) return (c) => { const lo = ea(c); return c.rd32(lo, c.hi); };
  if (size === 2) return (c) => { const lo = ea(c); return c.rd16(lo, c.hi); };
  return (c) => { const lo = ea(c); return c.rd8(lo, c.hi); };
}

/** A 64-bit reader for operand `i`: returns lo, leaves hi in c.hi. */
export function reader64(d: Decoded, i: number): (c: Cpu) => number {
  const t = d.ops[i];
  if (t === OpType.REG) {
    const ref = regOf(d, i);
    if (ref.cls !== RegClass.GPR) throw new Error('reader64 on a non-GPR register');
    const k = ref.n << 1;
    return (c) => { c.hi = c.r[k + 1]!; return c.r[k]!; };
  }
  if (t === OpType.IMM) {
    const lo = d.immLo, hi = d.immHi;
    return (c) => { c.hi = hi; return lo; };
  }
  const ea = eaOf(memOf(d));
  return (c) => { const lo = ea(c); return c.rd64(lo, c.hi); };
}

/** Set a 64-bit GPR. */
export function setGpr64(c: Cpu, n: number, lo: number, hi: number): void {
  c.r[n << 1] = lo; c.r[(n << 1) | 1] = hi;
}

/** The exception for an instruction the processor does not implement (#UD naming it). */
export function notImplemented(d: Decoded, name: string): Exec {
  const hex = Array.from(d.bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
  const detail = `unsupported instruction ${name} (${hex})`;
  return () => { throw new Fault(Vector.UD, 0, 0, 0, detail); };
}

/** A handler raising #UD for an instruction the selected CPU model (`--cpu`) does not have. */
export function outsideModel(d: Decoded, name: string, needs: string, model: string): Exec {
  const hex = Array.from(d.bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
  const detail = `instruction ${name} (${hex}) needs --cpu ${needs}; the CPU model is ${model}`;
  return () => { throw new Fault(Vector.UD, 0, 0, 0, detail); };
}
