// JavaScript emitters for the instructions that dominate compiled code (moves, ALU, LEA, stack, branches,
// conditional moves), keyed by iced `Mnemonic`. An emitter returns false for an operand shape it leaves to the
// interpreter's handler; semantics are those of the handlers in ../ops (the tests run both paths).
import { Mnemonic } from 'iced-x86';
import type { Decoded } from '../decoded.js';
import { OpType } from '../decoded.js';
import { FlagOp } from '../flags.js';
import { Off } from '../state.js';
import { conditionExpr } from './conditions.js';
import { Emitter, emitEa, emitLazy, gprOf, gprRead, gprWrite, LZ, placeOf, trunc, Val } from './emitter.js';

/** Emits one instruction; false when the shape is left to the interpreter (nothing may have been emitted). */
export type InsnEmitter = (e: Emitter, d: Decoded) => boolean;

const RIP = Off.RIP >> 2;

/** Size of operand 0 in bytes (GPR or memory). */
function size0(d: Decoded): number {
  return d.opSize;
}

// ---- ALU --------------------------------------------------------------------------------------------

type AluKind = 'add' | 'sub' | 'and' | 'or' | 'xor';

function aluEmitter(kind: AluKind, store: boolean): InsnEmitter {
  const flagOp = kind === 'add' ? FlagOp.ADD : kind === 'sub' ? FlagOp.SUB : FlagOp.LOGIC;
  return (e, d) => {
    const size = size0(d);
    if (size !== 1 && size !== 2 && size !== 4 && size !== 8) return false;
    if (d.opCount !== 2) return false;
    const dst = placeOf(e, d, 0, size, store), src = placeOf(e, d, 1, size);
    if (dst === undefined || src === undefined) return false;
    const a = dst.read(), b = src.read();
    if (size === 8) {
      const dl = e.let(a.lo, 'd'), dh = e.let(a.hi!, 'd'), sl = e.let(b.lo, 's'), sh = e.let(b.hi!, 's');
      let rl: string, rh: string;
      if (kind === 'add') {
        const t = e.let(`${dl} + ${sl}`);
        rl = e.let(`${t} >>> 0`, 'r'); rh = e.let(`(${dh} + ${sh} + (${t} > 4294967295 ? 1 : 0)) >>> 0`, 'r');
      } else if (kind === 'sub') {
        rl = e.let(`(${dl} - ${sl}) >>> 0`, 'r'); rh = e.let(`(${dh} - ${sh} - (${dl} < ${sl} ? 1 : 0)) >>> 0`, 'r');
      } else {
        const op = kind === 'and' ? '&' : kind === 'or' ? '|' : '^';
        rl = e.let(`(${dl} ${op} ${sl}) >>> 0`, 'r'); rh = e.let(`(${dh} ${op} ${sh}) >>> 0`, 'r');
      }
      if (store) dst.write({ lo: rl, hi: rh });
      if (e.flagsLive) emitLazy(e, flagOp, 8, { lo: rl, hi: rh }, { lo: dl, hi: dh }, { lo: sl, hi: sh });
      e.flagSource = { op: flagOp, size: 8, d: dl, s: sl, res: rl, dh, sh, resh: rh };
      return true;
    }
    const dl = e.let(a.lo, 'd'), sl = e.let(b.lo, 's');
    const op = kind === 'add' ? '+' : kind === 'sub' ? '-' : kind === 'and' ? '&' : kind === 'or' ? '|' : '^';
    const rl = e.let(trunc(`${dl} ${op} ${sl}`, size), 'r');
    if (store) dst.write({ lo: rl });
    if (e.flagsLive) emitLazy(e, flagOp, size, { lo: rl }, { lo: dl }, { lo: sl });
    e.flagSource = { op: flagOp, size, d: dl, s: sl, res: rl };
    return true;
  };
}

function incDec(inc: boolean): InsnEmitter {
  return (e, d) => {
    const size = size0(d);
    const place = placeOf(e, d, 0, size, true);
    if (place === undefined || size === 0) return false;
    const a = place.read();
    const op = inc ? FlagOp.INC : FlagOp.DEC;
    if (size === 8) {
      const dl = e.let(a.lo, 'd'), dh = e.let(a.hi!, 'd');
      const rl = e.let(inc ? `(${dl} + 1) >>> 0` : `(${dl} - 1) >>> 0`, 'r');
      const rh = e.let(inc ? `(${dh} + (${rl} === 0 ? 1 : 0)) >>> 0` : `(${dh} - (${dl} === 0 ? 1 : 0)) >>> 0`, 'r');
      place.write({ lo: rl, hi: rh });
      if (e.flagsLive) { e.emit(`if (r[${LZ.OP}] !== 0) getFlags(r);`); emitLazy(e, op, 8, { lo: rl, hi: rh }, { lo: dl, hi: dh }, { lo: '1', hi: '0' }); }
      e.flagSource = { op, size: 8, d: dl, s: '1', res: rl, dh, sh: '0', resh: rh };
      return true;
    }
    const dl = e.let(a.lo, 'd');
    const rl = e.let(trunc(inc ? `${dl} + 1` : `${dl} - 1`, size), 'r');
    place.write({ lo: rl });
    if (e.flagsLive) { e.emit(`if (r[${LZ.OP}] !== 0) getFlags(r);`); emitLazy(e, op, size, { lo: rl }, { lo: dl }, { lo: '1' }); }
    e.flagSource = { op, size, d: dl, s: '1', res: rl };
    return true;
  };
}

const emitNot: InsnEmitter = (e, d) => {
  const size = size0(d);
  const place = placeOf(e, d, 0, size, true);
  if (place === undefined || size === 0) return false;
  const a = place.read();
  if (size === 8) place.write({ lo: e.let(`(~${a.lo}) >>> 0`), hi: e.let(`(~${a.hi}) >>> 0`) });
  else place.write({ lo: e.let(trunc(`~${a.lo}`, size)) });
  return true;
};

const emitNeg: InsnEmitter = (e, d) => {
  const size = size0(d);
  const place = placeOf(e, d, 0, size, true);
  if (place === undefined || size === 0) return false;
  const a = place.read();
  if (size === 8) {
    const sl = e.let(a.lo, 's'), sh = e.let(a.hi!, 's');
    const rl = e.let(`(0 - ${sl}) >>> 0`, 'r'), rh = e.let(`(0 - ${sh} - (${sl} !== 0 ? 1 : 0)) >>> 0`, 'r');
    place.write({ lo: rl, hi: rh });
    if (e.flagsLive) emitLazy(e, FlagOp.SUB, 8, { lo: rl, hi: rh }, { lo: '0', hi: '0' }, { lo: sl, hi: sh });
    e.flagSource = { op: FlagOp.SUB, size: 8, d: '0', s: sl, res: rl, dh: '0', sh, resh: rh };
    return true;
  }
  const sl = e.let(a.lo, 's');
  const rl = e.let(trunc(`0 - ${sl}`, size), 'r');
  place.write({ lo: rl });
  if (e.flagsLive) emitLazy(e, FlagOp.SUB, size, { lo: rl }, { lo: '0' }, { lo: sl });
  e.flagSource = { op: FlagOp.SUB, size, d: '0', s: sl, res: rl };
  return true;
};

// ---- moves ----------------------------------------------------------------------------------------

const emitMov: InsnEmitter = (e, d) => {
  if (d.opCount !== 2) return false;
  const size = d.ops[0] === OpType.REG ? (gprOf(d, 0)?.size ?? 0) : d.mem?.size ?? 0;
  if (size !== 1 && size !== 2 && size !== 4 && size !== 8) return false;
  if (d.ops[1] === OpType.REG && gprOf(d, 1) === undefined) return false;
  const dst = placeOf(e, d, 0, size), src = placeOf(e, d, 1, size);
  if (dst === undefined || src === undefined) return false;
  const v = src.read();
  dst.write(size === 8 ? { lo: e.let(v.lo), hi: e.let(v.hi!) } : { lo: v.lo });
  return true;
};

function extend(signed: boolean): InsnEmitter {
  return (e, d) => {
    const dref = gprOf(d, 0);
    if (dref === undefined) return false;
    const from = d.ops[1] === OpType.REG ? (gprOf(d, 1)?.size ?? 0) : d.mem?.size ?? 0;
    if (from !== 1 && from !== 2 && from !== 4) return false;
    const src = placeOf(e, d, 1, from);
    if (src === undefined) return false;
    const v = src.read().lo;
    const to = dref.size;
    if (!signed) {
      if (to === 8) e.emit(`r[${dref.n * 2}] = ${v}; r[${dref.n * 2 + 1}] = 0;`);
      else e.emit(gprWrite(dref, v));
      return true;
    }
    const sx = e.let(from === 4 ? `(${v} | 0)` : from === 2 ? `((${v} << 16) >> 16)` : `((${v} << 24) >> 24)`, 'x');
    if (to === 8) e.emit(`r[${dref.n * 2}] = ${sx} >>> 0; r[${dref.n * 2 + 1}] = ${sx} < 0 ? 4294967295 : 0;`);
    else e.emit(gprWrite(dref, trunc(sx, to)));
    return true;
  };
}

const emitLea: InsnEmitter = (e, d) => {
  const dref = gprOf(d, 0);
  if (dref === undefined || d.mem === undefined || d.mem.seg >= 0) return false;
  const a = emitEa(e, d.mem, false);
  if (a === undefined) return false;
  if (dref.size === 8) e.emit(`r[${dref.n * 2}] = ${a.lo}; r[${dref.n * 2 + 1}] = ${a.hi};`);
  else e.emit(gprWrite(dref, trunc(a.lo, dref.size)));
  return true;
};

const emitCdqe: InsnEmitter = (e) => { e.emit('r[1] = (r[0] & 0x80000000) ? 4294967295 : 0;'); return true; };
const emitCqo: InsnEmitter = (e) => { e.emit('{ const t = (r[1] & 0x80000000) ? 4294967295 : 0; r[4] = t; r[5] = t; }'); return true; };
const emitCdq: InsnEmitter = (e) => { e.emit('r[4] = (r[0] & 0x80000000) ? 4294967295 : 0; r[5] = 0;'); return true; };

// ---- stack and control flow -------------------------------------------------------------------------

/** Emit a 64-bit push of `v` (memory written before RSP changes). */
function push(e: Emitter, v: Val): void {
  const nl = e.let('(r[8] - 8) >>> 0', 'p'), nh = e.let('r[8] < 8 ? (r[9] - 1) >>> 0 : r[9]', 'p');
  e.emit(`c.wr64(${nl}, ${nh}, ${v.lo}, ${v.hi ?? '0'}); r[8] = ${nl}; r[9] = ${nh};`);
}

/** Emit a 64-bit pop into locals (RSP advanced after the read). */
function pop(e: Emitter, extra = 0): Val {
  const lo = e.let('c.rd64(r[8], r[9])', 'v'), hi = e.let('c.hi', 'v');
  const n = 8 + extra;
  e.emit(`{ const t = r[8] + ${n}; r[8] = t >>> 0; if (t > 4294967295) r[9] = (r[9] + 1) >>> 0; }`);
  return { lo, hi };
}

const emitPush: InsnEmitter = (e, d) => {
  if (d.ops[0] === OpType.IMM && d.immSize === 8) { push(e, { lo: String(d.immLo >>> 0), hi: String(d.immHi >>> 0) }); return true; }
  const ref = gprOf(d, 0);
  if (ref !== undefined && ref.size === 8) { push(e, { lo: e.let(`r[${ref.n * 2}]`), hi: e.let(`r[${ref.n * 2 + 1}]`) }); return true; }
  if (d.ops[0] === OpType.MEM && d.mem?.size === 8) {
    const p = placeOf(e, d, 0, 8);
    if (p === undefined) return false;
    push(e, p.read());
    return true;
  }
  return false;
};

const emitPop: InsnEmitter = (e, d) => {
  const ref = gprOf(d, 0);
  if (ref === undefined || ref.size !== 8) return false;
  const v = pop(e);
  e.emit(`r[${ref.n * 2}] = ${v.lo}; r[${ref.n * 2 + 1}] = ${v.hi};`);
  return true;
};

const emitCall: InsnEmitter = (e, d) => {
  if (d.ops[0] !== OpType.BRANCH) return false;
  push(e, { lo: String(d.nextLo >>> 0), hi: String(d.nextHi >>> 0) });
  e.emit(`r[${RIP}] = ${d.targetLo >>> 0}; r[${RIP + 1}] = ${d.targetHi >>> 0};`);
  return true;
};

const emitRet: InsnEmitter = (e, d) => {
  if (d.opCount > 1) return false;
  const extra = d.opCount === 1 ? d.immLo & 0xffff : 0;
  const lo = e.let('c.rd64(r[8], r[9])', 'v'), hi = e.let('c.hi', 'v');
  e.emit(`if ((${hi} >>> 15) !== 0 && (${hi} >>> 15) !== 131071) gp0();`);
  e.emit(`{ const t = r[8] + ${8 + extra}; r[8] = t >>> 0; if (t > 4294967295) r[9] = (r[9] + 1) >>> 0; }`);
  e.emit(`r[${RIP}] = ${lo}; r[${RIP + 1}] = ${hi};`);
  return true;
};

const emitJmp: InsnEmitter = (e, d) => {
  if (d.ops[0] !== OpType.BRANCH) return false;
  e.emit(`r[${RIP}] = ${d.targetLo >>> 0}; r[${RIP + 1}] = ${d.targetHi >>> 0};`);
  return true;
};

const emitJcc: InsnEmitter = (e, d) => {
  if (d.ops[0] !== OpType.BRANCH || d.cc < 0) return false;
  e.emit(`if (${conditionExpr(e, d.cc)}) { r[${RIP}] = ${d.targetLo >>> 0}; r[${RIP + 1}] = ${d.targetHi >>> 0}; }`);
  return true;
};

const emitCmov: InsnEmitter = (e, d) => {
  const ref = gprOf(d, 0);
  if (ref === undefined || d.cc < 0 || ref.size === 1) return false;
  const src = placeOf(e, d, 1, ref.size);
  if (src === undefined) return false;
  const v = src.read(); // a memory source is read whatever the condition
  const cond = conditionExpr(e, d.cc);
  if (ref.size === 8) e.emit(`if (${cond}) { r[${ref.n * 2}] = ${v.lo}; r[${ref.n * 2 + 1}] = ${v.hi}; }`);
  else if (ref.size === 4) e.emit(`if (${cond}) r[${ref.n * 2}] = ${v.lo}; r[${ref.n * 2 + 1}] = 0;`);
  else e.emit(`if (${cond}) { ${gprWrite(ref, v.lo)} }`);
  return true;
};

const emitSetcc: InsnEmitter = (e, d) => {
  if (d.cc < 0) return false;
  const p = placeOf(e, d, 0, 1);
  if (p === undefined) return false;
  p.write({ lo: `(${conditionExpr(e, d.cc)} ? 1 : 0)` });
  return true;
};

// ---- shifts by an immediate count, and multiplication, when their flags are dead ----------------------

function shiftImm(kind: 'shl' | 'shr' | 'sar'): InsnEmitter {
  return (e, d) => {
    const ref = gprOf(d, 0);
    if (e.flagsLive || ref === undefined || d.ops[1] !== OpType.IMM) return false;
    const size = ref.size;
    const count = d.immLo & (size === 8 ? 63 : 31);
    if (count === 0) return true;
    if (size === 8) {
      const lo = `r[${ref.n * 2}]`, hi = `r[${ref.n * 2 + 1}]`;
      const l = e.let(lo), h = e.let(hi);
      let nl: string, nh: string;
      if (kind === 'shl') {
        nl = count < 32 ? `(${l} << ${count}) >>> 0` : '0';
        nh = count < 32 ? `((${h} << ${count}) | (${l} >>> ${32 - count})) >>> 0` : `(${l} << ${count - 32}) >>> 0`;
      } else if (kind === 'shr') {
        nl = count < 32 ? `((${l} >>> ${count}) | (${h} << ${32 - count})) >>> 0` : `${h} >>> ${count - 32}`;
        nh = count < 32 ? `${h} >>> ${count}` : '0';
      } else {
        nl = count < 32 ? `((${l} >>> ${count}) | (${h} << ${32 - count})) >>> 0` : `(${h} >> ${count - 32}) >>> 0`;
        nh = count < 32 ? `(${h} >> ${count}) >>> 0` : `(${h} >> 31) >>> 0`;
      }
      if (count === 32 && kind === 'shl') nh = `${l}`;
      e.emit(`${lo} = ${nl}; ${hi} = ${nh};`);
      return true;
    }
    if (size === 4 || size === 2 || size === 1) {
      const v = gprRead(ref);
      const ext = kind === 'sar' ? (size === 4 ? `(${v} | 0)` : size === 2 ? `((${v} << 16) >> 16)` : `((${v} << 24) >> 24)`) : v;
      const x = kind === 'shl' ? `${v} << ${count}` : kind === 'shr' ? `${v} >>> ${count}` : `${ext} >> ${Math.min(count, 31)}`;
      e.emit(gprWrite(ref, trunc(x, size)));
      return true;
    }
    return false;
  };
}

const emitImul: InsnEmitter = (e, d) => {
  // two- and three-operand forms with dead flags
  if (e.flagsLive || d.opCount < 2) return false;
  const ref = gprOf(d, 0);
  if (ref === undefined || (ref.size !== 4 && ref.size !== 8)) return false;
  const size = ref.size;
  let a: Val, b: Val;
  if (d.opCount === 2) {
    const src = placeOf(e, d, 1, size);
    if (src === undefined) return false;
    b = src.read();
    a = size === 8 ? { lo: `r[${ref.n * 2}]`, hi: `r[${ref.n * 2 + 1}]` } : { lo: `r[${ref.n * 2}]` };
  } else {
    if (d.ops[2] !== OpType.IMM) return false;
    const src = placeOf(e, d, 1, size);
    if (src === undefined) return false;
    a = src.read();
    b = size === 8 ? { lo: String(d.immLo >>> 0), hi: String(d.immHi >>> 0) } : { lo: String(d.immLo >>> 0) };
  }
  if (size === 4) {
    e.emit(`r[${ref.n * 2}] = Math.imul(${a.lo}, ${b.lo}) >>> 0; r[${ref.n * 2 + 1}] = 0;`);
    return true;
  }
  const al = e.let(a.lo), ah = e.let(a.hi!), bl = e.let(b.lo), bh = e.let(b.hi!);
  const lo = e.let(`Math.imul(${al}, ${bl}) >>> 0`);
  const hi = e.let(`(mulhi(${al}, ${bl}) + Math.imul(${ah}, ${bl}) + Math.imul(${al}, ${bh})) >>> 0`);
  e.emit(`r[${ref.n * 2}] = ${lo}; r[${ref.n * 2 + 1}] = ${hi};`);
  return true;
};

const emitNop: InsnEmitter = () => true;

/** High 32 bits of the unsigned product of two uint32 values. */
export function mulhi(a: number, b: number): number {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const p01 = a0 * b1, p10 = a1 * b0;
  const mid = ((a0 * b0) >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (a1 * b1 + Math.floor(p01 / 65536) + Math.floor(p10 / 65536) + Math.floor(mid / 65536)) >>> 0;
}

/** The emitters, by mnemonic. */
export const EMITTERS: ReadonlyMap<number, InsnEmitter> = new Map<number, InsnEmitter>([
  [Mnemonic.Add, aluEmitter('add', true)], [Mnemonic.Sub, aluEmitter('sub', true)], [Mnemonic.Cmp, aluEmitter('sub', false)],
  [Mnemonic.And, aluEmitter('and', true)], [Mnemonic.Or, aluEmitter('or', true)], [Mnemonic.Xor, aluEmitter('xor', true)],
  [Mnemonic.Test, aluEmitter('and', false)], [Mnemonic.Inc, incDec(true)], [Mnemonic.Dec, incDec(false)],
  [Mnemonic.Not, emitNot], [Mnemonic.Neg, emitNeg],
  [Mnemonic.Mov, emitMov], [Mnemonic.Movzx, extend(false)], [Mnemonic.Movsx, extend(true)], [Mnemonic.Movsxd, extend(true)],
  [Mnemonic.Lea, emitLea], [Mnemonic.Cdqe, emitCdqe], [Mnemonic.Cqo, emitCqo], [Mnemonic.Cdq, emitCdq],
  [Mnemonic.Push, emitPush], [Mnemonic.Pop, emitPop], [Mnemonic.Call, emitCall], [Mnemonic.Ret, emitRet], [Mnemonic.Jmp, emitJmp],
  [Mnemonic.Shl, shiftImm('shl')], [Mnemonic.Shr, shiftImm('shr')], [Mnemonic.Sar, shiftImm('sar')], [Mnemonic.Imul, emitImul],
  [Mnemonic.Nop, emitNop],
  ...(['Jo', 'Jno', 'Jb', 'Jae', 'Je', 'Jne', 'Jbe', 'Ja', 'Js', 'Jns', 'Jp', 'Jnp', 'Jl', 'Jge', 'Jle', 'Jg'] as const)
    .map((m): [number, InsnEmitter] => [Mnemonic[m], emitJcc]),
  ...(['Cmovo', 'Cmovno', 'Cmovb', 'Cmovae', 'Cmove', 'Cmovne', 'Cmovbe', 'Cmova', 'Cmovs', 'Cmovns', 'Cmovp', 'Cmovnp', 'Cmovl', 'Cmovge', 'Cmovle', 'Cmovg'] as const)
    .map((m): [number, InsnEmitter] => [Mnemonic[m], emitCmov]),
  ...(['Seto', 'Setno', 'Setb', 'Setae', 'Sete', 'Setne', 'Setbe', 'Seta', 'Sets', 'Setns', 'Setp', 'Setnp', 'Setl', 'Setge', 'Setle', 'Setg'] as const)
    .map((m): [number, InsnEmitter] => [Mnemonic[m], emitSetcc]),
]);
