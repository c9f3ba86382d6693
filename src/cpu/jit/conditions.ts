// Condition codes as JavaScript expressions. When the flags come from an operation of the same block whose
// operands are still in locals (CMP, SUB, TEST, AND, ...), the condition is computed from them directly;
// otherwise it is `testCondition(r, cc)` over the lazy flags.
import { FlagOp } from '../flags.js';
import { Emitter, FlagSource } from './emitter.js';

function signExt(v: string, size: number): string {
  return size === 4 ? `(${v} | 0)` : size === 2 ? `((${v} << 16) >> 16)` : `((${v} << 24) >> 24)`;
}

function signBit(size: number): number {
  return size === 4 ? 0x80000000 : size === 2 ? 0x8000 : 0x80;
}

/** Fused condition for a SUB/CMP producer (values already truncated to size). */
function fromSub(f: FlagSource, cc: number): string | undefined {
  const { d, s, res, size } = f;
  if (size === 8) {
    const { dh, sh, resh } = f as Required<FlagSource>;
    const zero = `((${res} | ${resh}) === 0)`;
    const below = `(${dh} < ${sh} || (${dh} === ${sh} && ${d} < ${s}))`;
    const less = `((${dh} | 0) < (${sh} | 0) || (${dh} === ${sh} && ${d} < ${s}))`;
    switch (cc) {
      case 0x2: return below; case 0x3: return `!${below}`;
      case 0x4: return zero; case 0x5: return `!${zero}`;
      case 0x6: return `(${below} || ${zero})`; case 0x7: return `!(${below} || ${zero})`;
      case 0x8: return `((${resh} & 0x80000000) !== 0)`; case 0x9: return `((${resh} & 0x80000000) === 0)`;
      case 0xc: return less; case 0xd: return `!${less}`;
      case 0xe: return `(${less} || ${zero})`; case 0xf: return `!(${less} || ${zero})`;
      default: return undefined;
    }
  }
  const sd = signExt(d, size), ss = signExt(s, size);
  switch (cc) {
    case 0x2: return `(${d} < ${s})`; case 0x3: return `(${d} >= ${s})`;
    case 0x4: return `(${d} === ${s})`; case 0x5: return `(${d} !== ${s})`;
    case 0x6: return `(${d} <= ${s})`; case 0x7: return `(${d} > ${s})`;
    case 0x8: return `((${res} & ${signBit(size)}) !== 0)`; case 0x9: return `((${res} & ${signBit(size)}) === 0)`;
    case 0xc: return `(${sd} < ${ss})`; case 0xd: return `(${sd} >= ${ss})`;
    case 0xe: return `(${sd} <= ${ss})`; case 0xf: return `(${sd} > ${ss})`;
    default: return undefined;
  }
}

/** Fused condition for a LOGIC producer (CF = OF = 0). */
function fromLogic(f: FlagSource, cc: number): string | undefined {
  const zero = f.size === 8 ? `((${f.res} | ${f.resh}) === 0)` : `(${f.res} === 0)`;
  const neg = f.size === 8 ? `((${f.resh} & 0x80000000) !== 0)` : `((${f.res} & ${signBit(f.size)}) !== 0)`;
  switch (cc) {
    case 0x0: case 0x2: return 'false'; case 0x1: case 0x3: return 'true';
    case 0x4: case 0x6: return zero; case 0x5: case 0x7: return `!${zero}`;
    case 0x8: case 0xc: return neg; case 0x9: case 0xd: return `!${neg}`;
    case 0xe: return `(${zero} || ${neg})`; case 0xf: return `!(${zero} || ${neg})`;
    default: return undefined;
  }
}

/** Fused ZF/SF conditions for any producer with a result local. */
function fromResult(f: FlagSource, cc: number): string | undefined {
  const zero = f.size === 8 ? `((${f.res} | ${f.resh}) === 0)` : `(${f.res} === 0)`;
  const neg = f.size === 8 ? `((${f.resh} & 0x80000000) !== 0)` : `((${f.res} & ${signBit(f.size)}) !== 0)`;
  switch (cc) {
    case 0x4: return zero; case 0x5: return `!${zero}`;
    case 0x8: return neg; case 0x9: return `!${neg}`;
    default: return undefined;
  }
}

/** A JS boolean expression for condition `cc` (0..15) at this point of the block. */
export function conditionExpr(e: Emitter, cc: number): string {
  const f = e.flagSource;
  let x: string | undefined;
  if (f !== null) {
    if (f.op === FlagOp.SUB) x = fromSub(f, cc);
    else if (f.op === FlagOp.LOGIC) x = fromLogic(f, cc);
    else x = fromResult(f, cc);
  }
  return x ?? `testCondition(r, ${cc})`;
}
