// The state of compiling one block to JavaScript: emitted lines, fresh local names, operand expressions
// over the state views (`r` = Uint32Array, `u16`, `u8`), and the flag producer available for condition fusion.
import { Decoded, MemRef, OpType, RegClass, RegRef } from '../decoded.js';
import { FlagOp } from '../flags.js';
import { Off } from '../state.js';

/** Indices of the lazy-flag fields in the 32-bit state view. */
export const LZ = {
  OP: Off.LAZY_OP >> 2, SIZE: Off.LAZY_SIZE >> 2, RES: Off.LAZY_RES >> 2, DST: Off.LAZY_DST >> 2, SRC: Off.LAZY_SRC >> 2,
} as const;

/** The last flag-setting operation of the block whose operands are held in locals (for fused conditions). */
export interface FlagSource {
  /** Its kind. */
  op: FlagOp;
  /** Operand size in bytes. */
  size: number;
  /** Local holding the destination operand (lo half for 8 bytes). */
  d: string;
  /** Local holding the source operand (lo half). */
  s: string;
  /** Local holding the result (lo half). */
  res: string;
  /** Hi halves for 8-byte operations. */
  dh?: string;
  sh?: string;
  resh?: string;
}

/** A value of 1, 2 or 4 bytes (`lo`), or 8 bytes (`lo`, `hi`), as JS expressions or local names. */
export interface Val {
  lo: string;
  hi?: string;
}

/** Compilation state of one block. */
export class Emitter {
  /** Emitted statements. */
  readonly lines: string[] = [];
  /** The current flag producer, or null when flags must be read through testCondition. */
  flagSource: FlagSource | null = null;
  /** Whether the current instruction must leave its flags in the lazy-flag fields. */
  flagsLive = true;
  private counter = 0;

  /** A fresh local name. */
  tmp(prefix = 't'): string {
    return `${prefix}${this.counter++}`;
  }

  /** Append a statement. */
  emit(s: string): void {
    this.lines.push(s);
  }

  /** Declare a local holding `expr`; returns its name. */
  let(expr: string, prefix = 't'): string {
    const n = this.tmp(prefix);
    this.lines.push(`const ${n} = ${expr};`);
    return n;
  }
}

/** Mask of a size in bytes (for sizes 1, 2, 4). */
export function maskOf(size: number): number {
  return size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
}

/** Expression truncating `e` to `size` bytes as a non-negative number. */
export function trunc(e: string, size: number): string {
  return size === 4 ? `((${e}) >>> 0)` : `((${e}) & ${maskOf(size)})`;
}

/** Read expression of a 1/2/4-byte GPR. */
export function gprRead(ref: RegRef): string {
  if (ref.size === 4) return `r[${ref.n * 2}]`;
  if (ref.size === 2) return `u16[${ref.n * 4}]`;
  return `u8[${ref.n * 8 + (ref.high8 ? 1 : 0)}]`;
}

/** Statement writing a 1/2/4-byte GPR with x86 rules (32-bit writes zero the hi half). */
export function gprWrite(ref: RegRef, v: string): string {
  if (ref.size === 4) return `r[${ref.n * 2}] = ${v}; r[${ref.n * 2 + 1}] = 0;`;
  if (ref.size === 2) return `u16[${ref.n * 4}] = ${v};`;
  return `u8[${ref.n * 8 + (ref.high8 ? 1 : 0)}] = ${v};`;
}

/** The GPR operand `i`, or undefined if it is not a general-purpose register. */
export function gprOf(d: Decoded, i: number): RegRef | undefined {
  const ref = d.regs[i];
  return d.ops[i] === OpType.REG && ref !== undefined && ref.cls === RegClass.GPR ? ref : undefined;
}

/**
 * Emit the effective address of a memory operand into two locals (lo, hi); undefined for forms left to the
 * interpreter (32-bit address size).
 */
export function emitEa(e: Emitter, m: MemRef, withSegment = true): Val | undefined {
  if (m.addr32) return undefined;
  const { base, index, scale, dispLo, dispHi } = m;
  let lo: string, hi: string;
  if (base < 0 && index < 0) {
    lo = String(dispLo >>> 0); hi = String(dispHi >>> 0);
  } else {
    const sum = e.tmp('s');
    const parts: string[] = [];
    const hiParts: string[] = [];
    if (base >= 0) { parts.push(`r[${base * 2}]`); hiParts.push(`r[${base * 2 + 1}]`); }
    if (index >= 0) {
      parts.push(scale === 1 ? `r[${index * 2}]` : `r[${index * 2}] * ${scale}`);
      hiParts.push(scale === 1 ? `r[${index * 2 + 1}]` : `r[${index * 2 + 1}] * ${scale}`);
    }
    if (dispLo !== 0) parts.push(String(dispLo >>> 0));
    if (dispHi !== 0) hiParts.push(String(dispHi >>> 0));
    e.emit(`const ${sum} = ${parts.join(' + ')};`);
    lo = e.let(`${sum} >>> 0`, 'a');
    const carry = parts.length > 2 || (index >= 0 && scale > 1) ? `((${sum} / 4294967296) | 0)` : `(${sum} > 4294967295 ? 1 : 0)`;
    hi = e.let(`(${hiParts.length ? hiParts.join(' + ') + ' + ' : ''}${carry}) >>> 0`, 'a');
  }
  if (withSegment && m.seg >= 0) {
    const sb = (m.seg === 4 ? Off.FS_BASE : Off.GS_BASE) >> 2;
    const s2 = e.let(`${lo} + r[${sb}]`, 's');
    const lo2 = e.let(`${s2} >>> 0`, 'a');
    const hi2 = e.let(`(${hi} + r[${sb + 1}] + (${s2} > 4294967295 ? 1 : 0)) >>> 0`, 'a');
    return { lo: lo2, hi: hi2 };
  }
  return { lo, hi };
}

/** Emit a memory read of `size` bytes at `a` into locals (`rmw`: the read of a read-modify-write). */
export function emitLoad(e: Emitter, a: Val, size: number, rmw = false): Val {
  const p = rmw ? 'rmw' : 'rd';
  if (size === 8) {
    const lo = e.let(`c.${p}64(${a.lo}, ${a.hi})`, 'v');
    const hi = e.let('c.hi', 'v');
    return { lo, hi };
  }
  const fn = `${p}${size * 8}`;
  return { lo: e.let(`c.${fn}(${a.lo}, ${a.hi})`, 'v') };
}

/** Emit a memory write of `size` bytes of `v` at `a`. */
export function emitStore(e: Emitter, a: Val, size: number, v: Val): void {
  if (size === 8) e.emit(`c.wr64(${a.lo}, ${a.hi}, ${v.lo}, ${v.hi ?? '0'});`);
  else e.emit(`c.${size === 4 ? 'wr32' : size === 2 ? 'wr16' : 'wr8'}(${a.lo}, ${a.hi}, ${v.lo});`);
}

/**
 * An operand as a readable value (emitting loads for memory) and a writer, or undefined if the operand has a
 * shape the compiler leaves to the interpreter.
 */
export interface Place {
  /** The value (locals or expressions). */
  read(): Val;
  /** Statement(s) storing a value of the operand's size. */
  write(v: Val): void;
}

/** Describe operand `i` of size `size` as a Place. Memory addresses are computed once; `rmw` marks a destination read. */
export function placeOf(e: Emitter, d: Decoded, i: number, size: number, rmw = false): Place | undefined {
  const t = d.ops[i];
  if (t === OpType.REG) {
    const ref = gprOf(d, i);
    if (ref === undefined) return undefined;
    if (size === 8) {
      return {
        read: () => ({ lo: `r[${ref.n * 2}]`, hi: `r[${ref.n * 2 + 1}]` }),
        write: (v) => e.emit(`r[${ref.n * 2}] = ${v.lo}; r[${ref.n * 2 + 1}] = ${v.hi ?? '0'};`),
      };
    }
    return { read: () => ({ lo: gprRead(ref) }), write: (v) => e.emit(gprWrite(ref, v.lo)) };
  }
  if (t === OpType.IMM) {
    if (size === 8) return { read: () => ({ lo: String(d.immLo >>> 0), hi: String(d.immHi >>> 0) }), write: () => { throw new Error('write to an immediate'); } };
    return { read: () => ({ lo: String((d.immLo & maskOf(size)) >>> 0) }), write: () => { throw new Error('write to an immediate'); } };
  }
  if (t === OpType.MEM && d.mem !== undefined) {
    const a = emitEa(e, d.mem);
    if (a === undefined) return undefined;
    let cached: Val | undefined;
    return {
      read: () => (cached ??= emitLoad(e, a, size, rmw)),
      write: (v) => emitStore(e, a, size, v),
    };
  }
  return undefined;
}

/** Statements recording a lazy flag operation (8-byte values use the hi fields too). */
export function emitLazy(e: Emitter, op: FlagOp, size: number, res: Val, dst: Val, src: Val): void {
  if (size === 8) {
    e.emit(`r[${LZ.OP}] = ${op}; r[${LZ.SIZE}] = 64; r[${LZ.RES}] = ${res.lo}; r[${LZ.RES + 1}] = ${res.hi}; ` +
      `r[${LZ.DST}] = ${dst.lo}; r[${LZ.DST + 1}] = ${dst.hi}; r[${LZ.SRC}] = ${src.lo}; r[${LZ.SRC + 1}] = ${src.hi};`);
  } else {
    e.emit(`r[${LZ.OP}] = ${op}; r[${LZ.SIZE}] = ${size * 8}; r[${LZ.RES}] = ${res.lo}; r[${LZ.DST}] = ${dst.lo}; r[${LZ.SRC}] = ${src.lo};`);
  }
}
