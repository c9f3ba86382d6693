// Logging blocks: RFLAGS after an emitted ALU instruction, computed straight from the operand and result
// locals the emitter left in its FlagSource (the lazy-flag rules of ../flags.ts, specialised to the operation
// and size at compile time), stored materialised and logged if it changed. Null for the operations it does not
// specialise (the caller then materialises through the generic path).
import { FlagOp } from '../flags.js';
import { Fl, Off } from '../state.js';
import type { FlagSource } from './emitter.js';
import { LZ } from './emitter.js';

const RF = Off.RFLAGS >> 2;

/** Statements that materialise and log RFLAGS for step `seq` (an expression), or null. */
export function logFlagsStatements(fs: FlagSource, seq: string): string | null {
  const { op, size } = fs;
  if (op !== FlagOp.ADD && op !== FlagOp.SUB && op !== FlagOp.LOGIC && op !== FlagOp.INC && op !== FlagOp.DEC) return null;
  const wide = size === 8;
  if (wide && (fs.dh === undefined || fs.sh === undefined || fs.resh === undefined)) return null;
  const d = fs.d, s = fs.s, res = fs.res;
  // the sign word and bit: hi words for 64-bit operations
  const [dS, sS, rS] = wide ? [fs.dh!, fs.sh!, fs.resh!] : [d, s, res];
  const signBit = wide || size === 4 ? 0x80000000 : size === 2 ? 0x8000 : 0x80;
  const parts: string[] = [
    wide ? `((${res} | ${fs.resh}) === 0 ? ${Fl.ZF} : 0)` : `(${res} === 0 ? ${Fl.ZF} : 0)`,
    `((${rS} & ${signBit}) !== 0 ? ${Fl.SF} : 0)`,
    `PARITY[${res} & 0xff]`,
  ];
  if (op !== FlagOp.LOGIC) parts.push(`((${d} ^ ${s} ^ ${res}) & ${Fl.AF})`);
  if (op === FlagOp.ADD || op === FlagOp.INC) parts.push(`(((${dS} ^ ${rS}) & (${sS} ^ ${rS}) & ${signBit}) !== 0 ? ${Fl.OF} : 0)`);
  if (op === FlagOp.SUB || op === FlagOp.DEC) parts.push(`(((${dS} ^ ${sS}) & (${dS} ^ ${rS}) & ${signBit}) !== 0 ? ${Fl.OF} : 0)`);
  if (op === FlagOp.ADD) parts.push(wide ? `(${fs.resh} < ${fs.dh} || (${fs.resh} === ${fs.dh} && ${res} < ${d}) ? 1 : 0)` : `(${res} < ${d} ? 1 : 0)`);
  if (op === FlagOp.SUB) parts.push(wide ? `(${fs.dh} < ${fs.sh} || (${fs.dh} === ${fs.sh} && ${d} < ${s}) ? 1 : 0)` : `(${d} < ${s} ? 1 : 0)`);
  // INC and DEC keep CF: it is in RFLAGS (their emitter materialises pending lazy flags before them)
  const keep = op === FlagOp.INC || op === FlagOp.DEC ? Fl.OSZAPC & ~Fl.CF : Fl.OSZAPC;
  return `{ const f = ((r[${RF}] & ${~keep >>> 0}) | ${parts.join(' | ')} | ${Fl.FIXED}) >>> 0; ` +
    `r[${RF}] = f; r[${LZ.OP}] = ${FlagOp.NONE}; if (f !== h[${RF}]) { h[${RF}] = f; L.rflags(${seq}, f); } }`;
}
