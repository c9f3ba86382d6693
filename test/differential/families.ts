// The instruction families of the differential suite: which Codes each covers and how operands, values
// and machine state are chosen for them.
import { Code, Instruction, MemoryOperand, Register, RepPrefixKind, CpuidFeature, Mnemonic } from 'iced-x86';
import { DATA_BASE, DATA_SIZE, DiffCase } from './harness.js';
import {
  Ctx, K, Knobs, MemOpts, Retry, Rng, byMnemonic, f32bits, f64bits, f80, finish, gprOf, info, interesting64, le64,
  legacyCodes, randomInsn, vexCodes, xmmValue, CodeInfo,
} from './gen.js';
import type { CpuLevel } from '../../src/cpu/cpu-level.js';
import { implementedCodes } from '../../src/cpu/table.js';

/** A family of the suite. */
export interface Family {
  name: string;
  /** Cases in a default run. */
  count: number;
  /** The Codes the family generates (for coverage reporting). */
  codes: () => number[];
  /** Fill a context with one case. */
  gen: (ctx: Ctx) => void;
  /** Which extra state to print for a failing case. */
  detail?: { xmm?: boolean; x87?: boolean };
  /** The CPU model the emulator runs the family under (default x86-64-v2, the processor's default). */
  level?: CpuLevel;
  /** /proc/cpuinfo flags the host needs to run the family natively (the family is skipped, loudly, without them). */
  needs?: readonly string[];
}

/** Operand size in bytes of an instruction's first operand. */
const sizeOf = (ci: CodeInfo): number => {
  const k = ci.kinds[0];
  if (k === K.r8_or_mem || k === K.r8_reg || k === K.r8_opcode || k === K.al) return 1;
  if (k === K.r16_or_mem || k === K.r16_reg || k === K.r16_rm || k === K.r16_opcode || k === K.ax) return 2;
  if (k === K.r32_or_mem || k === K.r32_reg || k === K.r32_rm || k === K.r32_opcode || k === K.eax) return 4;
  return 8;
};

const mask = (size: number): bigint => (1n << BigInt(8 * size)) - 1n;

/** Replace the low `size` bytes of a register value. */
const withLow = (rng: Rng, size: number, v: bigint): bigint =>
  size === 4 && rng.chance(0.5) ? v & mask(4) : (rng.u64() & ~mask(size)) | (v & mask(size));

// ---- alu ---------------------------------------------------------------------------------------------

const aluCodes = (): number[] => byMnemonic(/^(Add|Or|Adc|Sbb|And|Sub|Xor|Cmp|Test|Inc|Dec|Neg|Not)$/);

const alu: Family = {
  name: 'alu', count: 3000, codes: aluCodes,
  gen(ctx) {
    const codes = aluCodes();
    ctx.seq = ctx.rng.chance(0.3);
    const n = ctx.seq ? ctx.rng.range(2, 3) : 1;
    for (let i = 0; i < n; i++) randomInsn(ctx, ctx.rng.pick(codes), { lockP: 0.2 });
  },
};

// ---- shift -------------------------------------------------------------------------------------------

const shiftCodes = (): number[] => byMnemonic(/^(Rol|Ror|Rcl|Rcr|Shl|Sal|Shr|Sar|Shld|Shrd)$/);
const COUNTS = [0, 1, 1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 63, 64, 65, 127, 255];

function shiftCount(rng: Rng, ci: CodeInfo): number {
  for (;;) {
    const c = rng.chance(0.8) ? rng.pick(COUNTS) : rng.int(256);
    // SHLD/SHRD with a 16-bit operand and a masked count above 16: the result is the CPU model's choice
    // (VENDOR_TABLE.shiftDouble16LargeCount), judged on other hosts by rewriting the imm8 form; the CL
    // form keeps counts the SDM defines (its rewrite would have to change CL)
    if (/^Sh[lr]d/.test(ci.mnemonic) && sizeOf(ci) === 2 && (c & 31) > 16 && ci.kinds.includes(K.cl)) continue;
    return c;
  }
}

/** SDM value-dependent undefined flags of shifts and rotates for a known count. */
function shiftUndef(ci: CodeInfo, count: number): number {
  const size = sizeOf(ci), masked = count & (size === 8 ? 63 : 31);
  if (masked === 0) return 0;
  let u = 0;
  if (masked > 1) u |= 0x800; // OF: only 1-bit shifts/rotates define it
  if (/^(Shl|Sal|Shr|Sar|Shld|Shrd)$/.test(ci.mnemonic)) {
    u |= 0x10; // AF
    if (/^(Shl|Sal|Shr)$/.test(ci.mnemonic) && masked >= size * 8) u |= 0x1; // CF undefined for count >= size
    if (/^(Shld|Shrd)$/.test(ci.mnemonic) && masked > size * 8) u |= 0x8d5; // count above the size: all flags
  }
  return u;
}

/** One shift/rotate (or any other Code) with the count rules applied. */
function emitShift(ctx: Ctx, code: number): void {
  const rng = ctx.rng, ci = info(code);
  const isShift = /^(Rol|Ror|Rcl|Rcr|Shl|Sal|Shr|Sar|Shld|Shrd)$/.test(ci.mnemonic);
  // an earlier instruction of the sequence wrote RCX: the count in CL is unknown here
  const clUnknown = ci.kinds.includes(K.cl) && ctx.writtenRegs.has(1);
  let count = -1;
  randomInsn(ctx, code, {
    imm: (_c, ci2, k) => (k === K.imm8 && isShift ? (count = shiftCount(rng, ci2)) : undefined),
    after: (c, ci2, regs) => {
      // the count operand (kind `cl`), not a destination that happens to be CL
      if (isShift && ci2.kinds.includes(K.cl)) {
        count = shiftCount(rng, ci2);
        const dst = gprOf(regs[0]!);
        if (dst === 1) { // CL is also the destination: the count is whatever it holds
          if (regs[0] === Register.CH) c.pin(1, (withLow(rng, 2, BigInt(count)) & ~0xff00n) | (BigInt(rng.int(256)) << 8n));
          else c.pin(1, withLow(rng, 1, BigInt(count)));
        } else c.pin(1, withLow(rng, 1, BigInt(count)));
      }
    },
  });
  if (isShift && clUnknown) {
    // flags may stay as they were (count 0) or be written: keep earlier undefined flags undefined
    ctx.noWriteLast();
    ctx.undefLast(0x810 | (/^(Shl|Sal|Shr)$/.test(ci.mnemonic) && sizeOf(ci) <= 2 ? 0x1 : 0));
  } else if (isShift) {
    const c = count < 0 ? 1 : count;
    const size = sizeOf(ci), masked = c & (size === 8 ? 63 : 31);
    if (masked === 0) ctx.noWriteLast(); // flags unchanged
    else if (/^Rc[lr]$/.test(ci.mnemonic) && size <= 2 && masked % (size * 8 + 1) === 0) { ctx.noWriteLast(); ctx.undefLast(0x800); } // rotates by 0: CF kept, OF undefined
    else ctx.undefLast(shiftUndef(ci, c));
  }
}

const shift: Family = {
  name: 'shift', count: 2500, codes: shiftCodes,
  gen(ctx) {
    const rng = ctx.rng, codes = shiftCodes();
    ctx.seq = rng.chance(0.25);
    const n = ctx.seq ? 2 : 1;
    for (let i = 0; i < n; i++) emitShift(ctx, i === 0 ? rng.pick(codes) : rng.pick(rng.chance(0.5) ? codes : aluCodes()));
  },
};

// ---- muldiv ------------------------------------------------------------------------------------------

const muldivCodes = (): number[] => byMnemonic(/^(Mul|Imul|Div|Idiv)$/);

const muldiv: Family = {
  name: 'muldiv', count: 2000, codes: muldivCodes,
  gen(ctx) {
    const rng = ctx.rng, code = rng.pick(muldivCodes()), ci = info(code);
    if (!/Div/.test(ci.mnemonic)) { randomInsn(ctx, code); return; }
    const size = sizeOf(ci), bits = BigInt(8 * size), signed = ci.mnemonic === 'Idiv';
    let divisor = rng.chance(0.08) ? 0n : interesting64(rng) & mask(size);
    if (rng.chance(0.3)) divisor = BigInt(rng.range(1, 300));
    if (signed && rng.chance(0.2)) divisor = mask(size); // -1
    let hi: bigint, lo: bigint;
    const k = rng.int(100);
    if (k < 45 && divisor !== 0n) { // no overflow
      if (signed) { lo = interesting64(rng) & mask(size); hi = BigInt.asIntN(Number(bits), lo) < 0n ? mask(size) : 0n; } else { hi = (interesting64(rng) & mask(size)) % divisor; lo = interesting64(rng) & mask(size); }
    } else { hi = interesting64(rng) & mask(size); lo = interesting64(rng) & mask(size); }
    if (signed && rng.chance(0.1)) { hi = mask(size); lo = 1n << (bits - 1n); } // most negative dividend
    randomInsn(ctx, code, {
      memOpts: () => ({ fill: le64(divisor).subarray(0, size) }),
      after: (c, _ci, regs) => {
        const dr = gprOf(regs[0]!);
        if (size === 1) c.pin(0, withLow(rng, 2, (hi << 8n) | lo));
        else { c.pin(0, withLow(rng, size, lo)); c.pin(2, withLow(rng, size, hi)); }
        if (dr >= 0 && dr !== 0 && dr !== 2 && !(size === 1 && regs[0]! >= Register.AH && regs[0]! <= Register.BH)) c.pin(dr, withLow(rng, size, divisor));
      },
    });
  },
};

// ---- bit ---------------------------------------------------------------------------------------------

const bitCodes = (): number[] => byMnemonic(/^(Bt|Bts|Btr|Btc|Bsf|Bsr|Popcnt|Tzcnt|Lzcnt|Set(a|ae|b|be|e|g|ge|l|le|ne|no|np|ns|o|p|s))$/);

/** One bit-family instruction (scan inputs of zero, bounded BT offsets, the REP BSF/BSR rule). */
function emitBit(ctx: Ctx, code: number): void {
  const rng = ctx.rng, ci = info(code), size = sizeOf(ci);
  const scan = /^(Bsf|Bsr|Popcnt|Tzcnt|Lzcnt)$/.test(ci.mnemonic);
  const zero = scan && rng.chance(0.2);
  randomInsn(ctx, code, {
    memP: 0.4,
    memOpts: () => (zero ? { fill: new Uint8Array(size) } : {}),
    after: (c, ci2, regs, memUsed) => {
      if (zero && !memUsed) { const r = gprOf(regs[1]!); if (r >= 0) c.pin(r, withLow(rng, size, 0n)); }
      // BT* m, r: the bit offset reaches outside the operand; keep the byte address in the data region
      if (/^Bt/.test(ci2.mnemonic) && memUsed && regs[1] !== Register.None) {
        const r = gprOf(regs[1]!);
        if (r >= 0) c.pin(r, withLow(rng, size, BigInt.asUintN(64, BigInt(rng.range(-0x1800, 0x1800)))));
      }
    },
  });
  if (ci.mnemonic === 'Tzcnt' || ci.mnemonic === 'Lzcnt') {
    // F3 0F BC / F3 0F BD: the emulator's CPUID advertises neither BMI1 nor LZCNT, so it executes these
    // as BSF/BSR (what a processor without those features does: the F3 prefix is ignored). This host
    // may have BMI1/LZCNT and then runs TZCNT/LZCNT, so the host runs the same instruction with the F3
    // replaced by a 2E prefix (ignored in 64-bit mode): that is BSF/BSR on the same input, same length.
    ctx.nativeXform.set(ctx.makes.length - 1, (b) => {
      const op = b.findIndex((x, i) => x === 0x0f && (b[i + 1] === 0xbc || b[i + 1] === 0xbd));
      const f3 = b.subarray(0, op).lastIndexOf(0xf3);
      if (f3 < 0) throw new Error('no F3 prefix');
      b[f3] = 0x2e;
    });
    ctx.undefLast(0x895); // BSF/BSR: CF OF SF AF PF undefined
  }
}

const bit: Family = {
  name: 'bit', count: 2200, codes: bitCodes,
  gen(ctx) { emitBit(ctx, ctx.rng.pick(bitCodes())); },
};

// ---- bmi: BMI1, BMI2, LZCNT, MOVBE (x86-64-v3) ---------------------------------------------------------

const BMI_FEATURES = new Set<number>([CpuidFeature.BMI1, CpuidFeature.BMI2]);
let bmiList: number[] | undefined;
const bmiCodes = (): number[] => {
  if (bmiList) return bmiList;
  bmiList = [...vexCodes().filter((c) => {
    const ins = Instruction.create(c);
    const feats = Array.from(ins.cpuidFeatures());
    ins.free();
    return feats.length > 0 && feats.every((f) => BMI_FEATURES.has(f));
  }), ...byMnemonic(/^(Tzcnt|Lzcnt|Movbe)$/)];
  return bmiList;
};

/** Index and length operands of BEXTR/BZHI: mostly in range, sometimes at or beyond the width, upper bits random. */
function fieldControl(rng: Rng): bigint {
  const start = rng.chance(0.8) ? rng.int(66) : rng.int(256), len = rng.chance(0.8) ? rng.int(66) : rng.int(256);
  return (rng.chance(0.3) ? rng.u64() & ~0xffffn : 0n) | BigInt(start) | (BigInt(len) << 8n);
}

const bmi: Family = {
  name: 'bmi', count: 2500, codes: bmiCodes, level: 3, needs: ['bmi1', 'bmi2', 'movbe'], // LZCNT: every BMI1 processor has it (Linux may not list `abm`)
  gen(ctx) {
    const rng = ctx.rng, code = rng.pick(bmiCodes()), ci = info(code);
    ctx.seq = rng.chance(0.2);
    const zero = /^(Tzcnt|Lzcnt|Blsi|Blsmsk|Blsr)$/.test(ci.mnemonic) && rng.chance(0.2);
    const size = sizeOf(ci);
    randomInsn(ctx, code, {
      memP: 0.4,
      memOpts: () => (zero ? { fill: new Uint8Array(size) } : {}),
      after: (c, ci2, regs, memUsed) => {
        const last = regs.length - 1;
        if (zero && !memUsed) { const r = gprOf(regs[1]!); if (r >= 0) c.pin(r, withLow(rng, size, 0n)); }
        // the index/length register of BEXTR and BZHI (the VEX.vvvv operand, last)
        if (/^(Bextr|Bzhi)$/.test(ci2.mnemonic)) { const r = gprOf(regs[last]!); if (r >= 0 && r !== gprOf(regs[1]!)) c.pin(r, fieldControl(rng)); }
      },
    });
  },
};

// ---- mov ---------------------------------------------------------------------------------------------

const movCodes = (): number[] => byMnemonic(
  /^(Mov|Movzx|Movsx|Movsxd|Xchg|Xadd|Cmpxchg|Cmpxchg8b|Cmpxchg16b|Bswap|Lea|Cbw|Cwde|Cdqe|Cwd|Cdq|Cqo|Cmov(a|ae|b|be|e|g|ge|l|le|ne|no|np|ns|o|p|s))$/,
  /^Bswap_r16$/, // result undefined (SDM)
);

const mov: Family = {
  name: 'mov', count: 2500, codes: movCodes,
  gen(ctx) {
    const rng = ctx.rng, codes = movCodes();
    ctx.seq = rng.chance(0.2);
    const n = ctx.seq ? 2 : 1;
    for (let i = 0; i < n; i++) {
      const code = rng.pick(codes), ci = info(code), size = sizeOf(ci);
      const equal = rng.chance(0.5);
      const kn: Knobs = { lockP: 0.2 };
      if (ci.mnemonic === 'Cmpxchg') {
        kn.memOpts = (c) => (equal ? { fill: le64(c.gpr[0]!).subarray(0, size) } : {});
        kn.after = (c, _ci, regs, memUsed) => {
          if (equal && !memUsed) { const r = gprOf(regs[0]!); if (r >= 0 && !(regs[0]! >= Register.AH && regs[0]! <= Register.BH)) c.pin(0, withLow(rng, size, c.gpr[r]!)); }
        };
      } else if (ci.mnemonic === 'Cmpxchg8b' || ci.mnemonic === 'Cmpxchg16b') {
        const w = ci.mnemonic === 'Cmpxchg8b' ? 4 : 8;
        kn.memOpts = (c): MemOpts => {
          const f = c.randomBytes(2 * w);
          if (equal) { f.set(le64(c.gpr[0]!).subarray(0, w), 0); f.set(le64(c.gpr[2]!).subarray(0, w), w); }
          return { fill: f, align: 2 * w, alignP: w === 8 ? 0.92 : 0.5, addr32: false };
        };
      } else if (ci.mnemonic === 'Lea') {
        kn.memOpts = () => ({ addr32: true });
      }
      randomInsn(ctx, code, kn);
    }
  },
};

// ---- stack -------------------------------------------------------------------------------------------

const stackCodes = (): number[] => byMnemonic(/^(Push|Pop|Pushf|Pushfq|Popf|Popfq|Enter|Leave)$/);

const stack: Family = {
  name: 'stack', count: 1500, codes: stackCodes,
  gen(ctx) {
    const rng = ctx.rng, codes = stackCodes();
    const rspOff = 0x1000 + 8 * rng.int(0x300) + (rng.chance(0.08) ? rng.range(1, 7) : 0);
    ctx.pin(4, BigInt(DATA_BASE + rspOff));
    ctx.seq = rng.chance(0.3);
    const n = ctx.seq ? rng.range(2, 3) : 1;
    for (let i = 0; i < n; i++) {
      let code = rng.pick(codes), ci = info(code);
      // POPF only as the first instruction, popping a prepared image (never TF)
      while (i > 0 && /^Popf/.test(ci.mnemonic)) { code = rng.pick(codes); ci = info(code); }
      if (/^Popf/.test(ci.mnemonic)) {
        // the popped image: arithmetic flags, DF, NT, AC, ID, IF, IOPL random; never TF
        const v = (rng.u32() & 0x247ed5) | 0x2;
        ctx.patch(rspOff, le64(BigInt(v)).subarray(0, ci.mnemonic === 'Popfq' ? 8 : 2));
      }
      if (/^(Enter|Leave)/.test(ci.mnemonic) && !ctx.pinned.has(5)) ctx.pin(5, BigInt(DATA_BASE + 0x1000 + 8 * rng.int(0x300) + (rng.chance(0.1) ? rng.range(1, 7) : 0)));
      randomInsn(ctx, code, {
        allowRsp: rng.chance(0.15),
        memOpts: () => ({ allowRsp: rng.chance(0.3) }),
        imm: (_c, ci2, k) => {
          if (/^Enter/.test(ci2.mnemonic)) return k === K.imm16 ? rng.pick([0, 8, 16, 0x28, rng.int(0x200)]) : rng.pick([0, 0, 1, 2, 3, 4, rng.int(40)]);
          return undefined;
        },
      });
      if (/^Popf/.test(ci.mnemonic)) break; // AC/ID may now be set: end the sequence
    }
  },
};

// ---- branch ------------------------------------------------------------------------------------------

const branchCodes = (): number[] => byMnemonic(/^(J[a-z]+|Call|Ret|Loop|Loope|Loopne|Jrcxz|Jecxz)$/, /rm16$|_m16|Retnw|Retf/); // 16-bit forms differ between Intel and AMD

const branch: Family = {
  name: 'branch', count: 1500, codes: branchCodes,
  gen(ctx) {
    const rng = ctx.rng, code = rng.pick(branchCodes()), ci = info(code);
    ctx.nExits = 2;
    if (rng.chance(0.3)) ctx.exitsBefore = 1;
    const target = rng.int(2);
    if (/^Loop|^Jrcxz|^Jecxz/.test(ci.mnemonic)) {
      const c = rng.pick([0n, 1n, 2n, 3n, 0x100000000n, 0x100000001n, interesting64(rng)]);
      ctx.pin(1, c);
    }
    if (/^Ret/.test(ci.mnemonic)) {
      const rsp = Number(ctx.gpr[4]! - BigInt(DATA_BASE));
      ctx.late.push((ea) => ctx.patch(rsp, le64(ea(target))));
    }
    randomInsn(ctx, code, {
      memP: 0.4,
      imm: (_c, _ci, k) => (k === K.imm16 ? rng.pick([0, 8, 16, rng.int(0x100) * 2, rng.int(0x100)]) : undefined),
      after: (c, _ci, regs, memUsed) => {
        if (/^(Jmp|Call)$/.test(ci.mnemonic) && ci.kinds[0] === K.r64_or_mem) {
          if (memUsed) { const off = c.lastMemOff; c.late.push((ea) => c.patch(off, le64(ea(target)))); } else {
            const r = gprOf(regs[0]!);
            c.late.push((ea) => c.pin(r, ea(target)));
          }
        }
      },
    });
  },
};

// ---- string ------------------------------------------------------------------------------------------

const STRING_OPS = ['Movs', 'Cmps', 'Scas', 'Lods', 'Stos'] as const;
const stringCodes = (): number[] => Object.entries(Code).filter(([n, v]) => typeof v === 'number' && /^(Movs|Cmps|Scas|Lods|Stos)[bwdq]_/.test(n)).map(([, v]) => v as number);

const string: Family = {
  name: 'string', count: 1800, codes: stringCodes,
  gen(ctx) {
    const rng = ctx.rng;
    const op = rng.pick(STRING_OPS), sz = rng.pick(['b', 'w', 'd', 'q'] as const), w = { b: 1, w: 2, d: 4, q: 8 }[sz];
    const a32 = rng.chance(0.15);
    const cond = op === 'Cmps' || op === 'Scas';
    const rep = rng.chance(0.75) ? (cond ? rng.pick([RepPrefixKind.Repe, RepPrefixKind.Repne]) : RepPrefixKind.Repe) : RepPrefixKind.None;
    const df = rng.chance(0.5);
    ctx.rflags = (ctx.rflags & ~0x400) | (df ? 0x400 : 0);
    const count = rep === RepPrefixKind.None ? 1 : rng.chance(0.1) ? 0 : rng.chance(0.8) ? rng.range(1, 12) : rng.range(13, 40);
    if (rep !== RepPrefixKind.None) ctx.pin(1, a32 ? (rng.u64() & ~0xffffffffn) | BigInt(count) : BigInt(count));
    const span = Math.max(count, 1) * w + 16;
    const place = (): number => (df ? rng.range(0x400 + span, 0x3c00) : rng.range(0x400, 0x3c00 - span)) + (rng.chance(0.2) ? rng.int(8) : 0) & ~(rng.chance(0.7) ? w - 1 : 0);
    let si = place(), di = place();
    // a REP run that reaches the end (DF=0) or the start (DF=1) of the mapped region part-way: #PF with
    // the completed iterations' RCX/RSI/RDI
    const edge = rep !== RepPrefixKind.None && count >= 2 && rng.chance(0.08) ? (op === 'Lods' || (op !== 'Stos' && op !== 'Scas' && rng.chance(0.5)) ? 'si' : 'di') : '';
    const edgeOff = (): number => { const k = rng.range(1, count - 1); return df ? (k - 1) * w + rng.int(w) : DATA_SIZE - k * w - rng.int(w); };
    if (edge === 'si') si = edgeOff(); else if (edge === 'di') di = edgeOff();
    const lo = (p: number): number => (df ? p - span + w + 8 : p);
    const patch = (p: number, b: Uint8Array): void => {
      const a = lo(p), from = Math.max(0, -a), to = Math.min(b.length, DATA_SIZE - a);
      if (to > from) ctx.patch(a + from, b.subarray(from, to));
    };
    const src = ctx.randomBytes(span);
    const setReg = (n: number, off: number): void => ctx.pin(n, a32 ? (rng.u64() & ~0xffffffffn) | BigInt(DATA_BASE + off) : BigInt(DATA_BASE + off));
    if (op === 'Movs' || op === 'Cmps' || op === 'Lods') { setReg(6, si); patch(si, src); }
    if (op !== 'Lods') setReg(7, di);
    if (op === 'Cmps') { // destination equal to the source except maybe one element
      const dst = src.slice();
      if (rng.chance(0.7)) { const j = rng.int(Math.max(count, 1)); const at = df ? span - 8 - (j + 1) * w : j * w; const x = at + rng.int(w); dst[x] = dst[x]! ^ (1 << rng.int(8)); }
      patch(di, dst);
    }
    if (op === 'Scas') { // a buffer of RAX elements, maybe one different (or of different ones, one equal)
      const v = le64(ctx.gpr[0]!);
      const dst = ctx.randomBytes(span);
      const fillAll = rng.chance(0.5);
      const j = rng.int(Math.max(count, 1) + 1);
      for (let e = 0; e < Math.max(count, 1); e++) {
        const at = df ? span - 8 - (e + 1) * w : e * w;
        if ((fillAll && e !== j) || (!fillAll && e === j)) dst.set(v.subarray(0, w), at);
      }
      patch(di, dst);
    }
    const name = `create${op}${sz}` as const;
    const addr = a32 ? 32 : 64;
    ctx.add(() => {
      const f = (Instruction as unknown as Record<string, (...a: unknown[]) => Instruction>)[name]!;
      return op === 'Scas' || op === 'Stos' ? f(addr, rep) : f(addr, Register.None, rep);
    });
  },
};

// ---- misc --------------------------------------------------------------------------------------------

const miscCodes = (): number[] => [
  ...byMnemonic(/^(Clc|Stc|Cmc|Cld|Std|Lahf|Sahf|Nop|Pause|Lfence|Mfence|Sfence|Ud2|Ud0|Ud1|Prefetchnta|Prefetcht0|Prefetcht1|Prefetcht2|Endbr64|Endbr32|Hlt|Cli|Sti|Clts|Invd|Wbinvd|Rdmsr|Wrmsr|Swapgs|Sysretq?|Reservednop|Prefetch|Prefetchw|Prefetchreserved[3-7]|Cldemote|Rdsspd|Rdsspq|Incsspd|Incsspq)$/),
];
/** Encodings invalid in 64-bit mode, and LOCK where it is not allowed (#UD). */
const INVALID64: number[][] = [
  [0xf0, 0x01, 0xd8], [0xf0, 0x90], [0xf0, 0x8b, 0x03], [0xf0, 0x0f, 0xaf, 0x03], [0xf0, 0x48, 0x39, 0x03], [0xf0, 0xf8],[0x06], [0x07], [0x0e], [0x16], [0x17], [0x1e], [0x1f], [0x27], [0x2f], [0x37], [0x3f], [0x60], [0x61], [0xce], [0xd4, 0x0a], [0xd5, 0x0a], [0xd6], [0x82, 0xc0, 0x01], [0x0f, 0x0b]];

const misc: Family = {
  name: 'misc', count: 800, codes: miscCodes,
  gen(ctx) {
    const rng = ctx.rng, k = rng.int(100);
    if (k < 10) { const b = rng.pick(INVALID64); ctx.add(() => Instruction.createDeclareByte(new Uint8Array(b))); return; }
    if (k < 20) { // XLAT
      const al = rng.int(256), off = rng.range(0x400, 0x3000);
      ctx.pin(0, (interesting64(rng) & ~0xffn) | BigInt(al));
      ctx.pin(3, BigInt(DATA_BASE + off));
      ctx.patch(off + al, new Uint8Array([rng.int(256)]));
      const bytes = rng.chance(0.5) ? [0xd7] : [0x48, 0xd7];
      ctx.add(() => Instruction.createDeclareByte(new Uint8Array(bytes)));
      return;
    }
    ctx.seq = rng.chance(0.3);
    const n = ctx.seq ? rng.range(2, 3) : 1;
    for (let i = 0; i < n; i++) randomInsn(ctx, rng.pick(miscCodes()));
  },
};

// ---- sse ---------------------------------------------------------------------------------------------

let sseList: number[] | undefined;
const sseCodes = (): number[] => {
  if (sseList) return sseList;
  sseList = legacyCodes().filter((c) => {
    const ci = info(c);
    const xmm = ci.kinds.some((k) => k === K.xmm_reg || k === K.xmm_rm || k === K.xmm_or_mem);
    if (!xmm && !/^(Ldmxcsr|Stmxcsr|Movnti)$/.test(ci.mnemonic)) return false;
    if (/^(Rcpps|Rcpss|Rsqrtps|Rsqrtss)$/.test(ci.mnemonic)) return false; // the approximations are the rcp family's
    const ins = Instruction.create(c);
    const feats = Array.from(ins.cpuidFeatures());
    ins.free();
    return feats.every((f) => f === CpuidFeature.SSE || f === CpuidFeature.SSE2);
  });
  return sseList;
};

function fpFlavour(ci: CodeInfo): 'ps' | 'pd' | 'int' | undefined {
  const n = ci.mnemonic.toLowerCase();
  if (/^cvt/.test(n)) return undefined;
  if (/(ps|ss)$/.test(n)) return 'ps';
  if (/(pd|sd)$/.test(n)) return 'pd';
  return 'int';
}

function sseMemFill(rng: Rng, ci: CodeInfo, size: number): Uint8Array {
  const n = ci.mnemonic.toLowerCase();
  if (n === 'ldmxcsr') return le64(BigInt((rng.u32() & 0xffc0) | 0x1f80 | (rng.chance(0.2) ? rng.int(64) : 0)) | (rng.chance(0.05) ? 1n << BigInt(rng.range(16, 31)) : 0n)).subarray(0, 4);
  const b = new Uint8Array(size), dv = new DataView(b.buffer);
  let fl: string | undefined = fpFlavour(ci);
  if (/^cvt/.test(n)) fl = /^cvt(t?)(ss|ps)/.test(n) ? 'ps' : /^cvt(t?)(sd|pd)/.test(n) ? 'pd' : 'int';
  if (size === 16) return xmmValue(rng, fl as 'ps' | 'pd' | 'int');
  if (fl === 'ps') for (let i = 0; i + 4 <= size; i += 4) dv.setUint32(i, f32bits(rng), true);
  else if (fl === 'pd') for (let i = 0; i + 8 <= size; i += 8) dv.setBigUint64(i, f64bits(rng), true);
  else for (let i = 0; i < size; i += 8) b.set(le64(interesting64(rng)).subarray(0, Math.min(8, size - i)), i);
  return b;
}

/** A random MXCSR: mostly the default, else other rounding, FTZ/DAZ, sticky flags or unmasked exceptions. */
function randomMxcsr(rng: Rng): number {
  const k = rng.int(100);
  if (k < 15) return 0x1f80 | (rng.int(4) << 13);
  if (k < 27) return 0x1f80 | rng.pick([0x8000, 0x40, 0x8040]) | (rng.int(4) << 13);
  if (k < 35) return 0x1f80 | rng.int(64);
  if (k < 40) return (0x1f80 & ~(rng.int(64) << 7)) | (rng.int(4) << 13);
  return 0x1f80;
}

const UNALIGNED_OK = /^(Movups|Movupd|Movdqu|Lddqu|Maskmovdqu|Pcmp[ei]str[im])$/;

const sse: Family = {
  name: 'sse', count: 4500, codes: () => [...sseCodes(), Code.Maskmovdqu_rDI_xmm_xmm], detail: { xmm: true },
  gen(ctx) {
    const rng = ctx.rng, dv = new DataView(ctx.fx.buffer);
    dv.setUint32(24, randomMxcsr(rng), true);
    if (rng.chance(0.02)) { // MASKMOVDQU: byte-masked store to [RDI]
      const a = Register.XMM0 + rng.int(16), b = Register.XMM0 + rng.int(16), off = rng.range(0x400, 0x3000) + rng.int(16);
      ctx.pin(7, BigInt(DATA_BASE + off));
      ctx.add(() => Instruction.createMaskmovdqu(64, a, b, Register.None));
      return;
    }
    ctx.seq = rng.chance(0.2);
    const n = ctx.seq ? 2 : 1;
    for (let i = 0; i < n; i++) {
      const code = rng.pick(sseCodes());
      randomInsn(ctx, code, {
        memP: 0.35,
        memOpts: (c, ci2) => ({
          fill: sseMemFill(c.rng, ci2, ci2.memSize || 16),
          align: ci2.memSize === 16 && !UNALIGNED_OK.test(ci2.mnemonic) ? 16 : 1, alignP: 0.93,
        }),
        imm: (_c, ci2, kk) => {
          if (kk !== K.imm8) return undefined;
          if (/^Cmp(ps|pd|ss|sd)$/.test(ci2.mnemonic)) return rng.chance(0.85) ? rng.int(8) : rng.int(256);
          if (/^Ps(ll|rl|ra)/.test(ci2.mnemonic)) return rng.pick([0, 1, 3, 7, 8, 15, 16, 31, 32, 63, 64, 127, 255, rng.int(256)]);
          return rng.int(256);
        },
        after: (c, ci2, regs) => {
          const fl = fpFlavour(ci2);
          for (const r of regs) {
            if (r >= Register.XMM0 && r <= Register.XMM15 && rng.chance(0.8)) c.fx.set(xmmValue(rng, fl), 160 + 16 * (r - Register.XMM0));
          }
        },
      });
    }
  },
};

// ---- sse4: SSE3, SSSE3, SSE4.1, SSE4.2 (with the string compares and CRC32) ----------------------------

const SSE4_FEATURES = new Set<number>([CpuidFeature.SSE3, CpuidFeature.SSSE3, CpuidFeature.SSE4_1, CpuidFeature.SSE4_2]);
let sse4List: number[] | undefined;
const sse4Codes = (): number[] => {
  if (sse4List) return sse4List;
  sse4List = legacyCodes().filter((c) => {
    const ci = info(c);
    const xmm = ci.kinds.some((k) => k === K.xmm_reg || k === K.xmm_rm || k === K.xmm_or_mem);
    if (!xmm && ci.mnemonic !== 'Crc32') return false;
    const ins = Instruction.create(c);
    const feats = Array.from(ins.cpuidFeatures());
    ins.free();
    return feats.length > 0 && feats.every((f) => SSE4_FEATURES.has(f));
  });
  return sse4List;
};

/** 16 bytes that look like text for the string compares: a small alphabet, element-size nulls, sometimes random. */
function stringBytes(rng: Rng, words: boolean): Uint8Array {
  const b = new Uint8Array(16);
  if (rng.chance(0.1)) return rng.bytes(16);
  const alphabet = rng.pick([[0x61, 0x62, 0x63], [0x61, 0x62, 0x7a, 0x41, 0x30], [0x00, 0x61, 0x80, 0xff, 0x7f, 0x01], [0x20, 0x61, 0x62, 0x63, 0x64, 0x2c]]);
  const size = words ? 2 : 1;
  for (let i = 0; i < 16; i += size) {
    b[i] = rng.pick(alphabet);
    if (words) b[i + 1] = rng.chance(0.7) ? 0 : rng.pick(alphabet);
  }
  if (rng.chance(0.5)) { const at = rng.int(16 / size) * size; b.fill(0, at, at + size); } // a terminator
  return b;
}

/** An explicit string length for PCMPESTRx: small, negative, beyond the register, or a 64-bit edge value. */
function stringLength(rng: Rng): bigint {
  const k = rng.int(100);
  if (k < 60) return BigInt.asUintN(64, BigInt(rng.range(-18, 18)));
  if (k < 75) return (rng.u64() & ~0xffffffffn) | BigInt.asUintN(32, BigInt(rng.range(-18, 18))); // upper half random
  return interesting64(rng);
}

const STRING_CMP = /^Pcmp[ei]str[im]$/;

const sse4: Family = {
  name: 'sse4', count: 3500, codes: sse4Codes, detail: { xmm: true },
  gen(ctx) {
    const rng = ctx.rng, dv = new DataView(ctx.fx.buffer);
    dv.setUint32(24, randomMxcsr(rng), true);
    ctx.seq = rng.chance(0.2);
    const n = ctx.seq ? 2 : 1;
    for (let i = 0; i < n; i++) {
      const code = rng.pick(sse4Codes()), ci = info(code);
      const str = STRING_CMP.test(ci.mnemonic), explicitLen = /^Pcmpestr/.test(ci.mnemonic);
      const imm = str ? (rng.chance(0.9) ? rng.int(128) : rng.int(256)) : 0; // chosen first: the operands depend on its format
      randomInsn(ctx, code, {
        memP: 0.35,
        memOpts: (c, ci2) => ({
          fill: str ? stringBytes(c.rng, (imm & 1) === 1) : sseMemFill(c.rng, ci2, ci2.memSize || 16),
          align: ci2.memSize === 16 && !UNALIGNED_OK.test(ci2.mnemonic) && !str ? 16 : 1, alignP: 0.93,
          avoid: explicitLen ? [0, 2] : [],
        }),
        imm: (_c, ci2, kk) => {
          if (kk !== K.imm8) return undefined;
          if (STRING_CMP.test(ci2.mnemonic)) return imm;
          if (/^Round/.test(ci2.mnemonic)) return rng.chance(0.85) ? rng.int(16) : rng.int(256);
          return rng.int(256);
        },
        after: (c, ci2, regs) => {
          const fl = fpFlavour(ci2);
          for (const r of regs) {
            if (r >= Register.XMM0 && r <= Register.XMM15 && rng.chance(0.8)) {
              c.fx.set(str ? stringBytes(rng, (imm & 1) === 1) : xmmValue(rng, fl), 160 + 16 * (r - Register.XMM0));
            }
          }
          if (explicitLen) { c.pin(0, stringLength(rng)); c.pin(2, stringLength(rng)); }
        },
      });
      // implicit writes the generator does not see as operands: the index in ECX, the mask in XMM0
      if (/^Pcmp[ei]stri$/.test(ci.mnemonic)) ctx.writtenRegs.add(1);
    }
  },
};

// ---- mmx: MMX registers, the x87/MMX transition, EMMS -------------------------------------------------

let mmxList: number[] | undefined;
const mmxCodes = (): number[] => {
  mmxList ??= [...legacyCodes().filter((c) => info(c).kinds.some((k) => k === K.mm_reg || k === K.mm_rm || k === K.mm_or_mem)), Code.Emms];
  return mmxList;
};
/** x87 instructions mixed into MMX sequences (the aliasing seen from the x87 side, and back). */
const X87_AFTER_MMX = [Code.Fld1, Code.Fldz, Code.Fchs, Code.Fabs, Code.Fincstp, Code.Fdecstp];

/** The x87 state an MMX instruction meets: any TOP, some registers empty, MMX-written or x87 values, maybe a pending #MF. */
function mmxState(ctx: Ctx): number {
  const rng = ctx.rng, fx = ctx.fx, dv = new DataView(fx.buffer);
  const top = rng.chance(0.5) ? 0 : rng.int(8);
  let fsw = top << 11;
  if (rng.chance(0.3)) fsw |= rng.u32() & 0x4700;
  let fcw = 0x37f;
  if (rng.chance(0.06)) { const e = 1 << rng.int(6); fsw |= e | 0x80 | 0x8000; fcw &= ~e; } // unmasked and pending: #MF
  dv.setUint16(0, fcw, true);
  dv.setUint16(2, fsw, true);
  for (let i = 0; i < 8; i++) {
    if (rng.chance(0.7)) { fx.set(le64(interesting64(rng)), 32 + 16 * i); fx[32 + 16 * i + 8] = 0xff; fx[32 + 16 * i + 9] = 0xff; } else fx.set(f80(rng), 32 + 16 * i);
  }
  fx[4] = rng.chance(0.3) ? 0 : rng.chance(0.5) ? 0xff : rng.int(256);
  return top;
}

const mmx: Family = {
  name: 'mmx', count: 2500, codes: mmxCodes, detail: { x87: true, xmm: true },
  gen(ctx) {
    const rng = ctx.rng, dv = new DataView(ctx.fx.buffer);
    const top = mmxState(ctx);
    if (rng.chance(0.2)) dv.setUint32(24, 0x1f80 | (rng.int(4) << 13) | (rng.chance(0.3) ? rng.pick([0x8000, 0x40]) : 0), true);
    else if (rng.chance(0.1)) dv.setUint32(24, (0x1f80 & ~(rng.int(64) << 7)) | (rng.int(4) << 13), true);
    if (rng.chance(0.03)) { // MASKMOVQ: byte-masked store to [RDI]
      const a = Register.MM0 + rng.int(8), b = Register.MM0 + rng.int(8), off = rng.range(0x400, 0x3000) + rng.int(16);
      ctx.pin(7, BigInt(DATA_BASE + off));
      ctx.add(() => Instruction.createMaskmovq(64, a, b, Register.None));
      return;
    }
    ctx.seq = rng.chance(0.3);
    const n = ctx.seq ? rng.range(2, 3) : 1;
    for (let i = 0; i < n; i++) {
      if (i > 0 && rng.chance(0.2)) { randomInsn(ctx, rng.pick(X87_AFTER_MMX)); continue; }
      const code = rng.pick(mmxCodes()), ci = info(code);
      const shift = /^Ps(ll|rl|ra)[wdq]$/.test(ci.mnemonic);
      const count = (): bigint => (rng.chance(0.7) ? BigInt(rng.pick([0, 1, 3, 7, 8, 15, 16, 31, 32, 33, 63, 64, 65])) : interesting64(rng));
      randomInsn(ctx, code, {
        memP: 0.35,
        memOpts: (c, ci2) => ({
          fill: shift ? le64(count()) : sseMemFill(c.rng, ci2, ci2.memSize || 8),
          align: ci2.memSize === 16 ? 16 : 1, alignP: 0.93,
        }),
        imm: (_c, ci2, kk) => {
          if (kk !== K.imm8) return undefined;
          if (/^Palignr$/.test(ci2.mnemonic)) return rng.chance(0.8) ? rng.int(17) : rng.int(256);
          if (/^Ps(ll|rl|ra)/.test(ci2.mnemonic)) return rng.pick([0, 1, 3, 7, 8, 15, 16, 31, 32, 63, 64, 127, 255, rng.int(256)]);
          return rng.int(256);
        },
        after: (c, ci2, regs) => {
          const fl = fpFlavour(ci2) ?? (/^Cvt(t?)(ps)/.test(ci2.mnemonic) ? 'ps' : /^Cvt(t?)pd/.test(ci2.mnemonic) ? 'pd' : 'int');
          for (const r of regs) if (r >= Register.XMM0 && r <= Register.XMM15 && rng.chance(0.8)) c.fx.set(xmmValue(rng, fl === 'int' ? undefined : fl), 160 + 16 * (r - Register.XMM0));
          // a shift count in an MMX register: MMn is physical register n, FXSAVE slot (n - TOP) mod 8
          const src = regs[1];
          if (shift && src !== undefined && src >= Register.MM0 && src <= Register.MM7 && i === 0) {
            c.fx.set(le64(count()), 32 + 16 * ((src - Register.MM0 - top) & 7));
          }
        },
      });
    }
  },
};

// ---- rcp: the approximations RCPPS RCPSS RSQRTPS RSQRTSS (judged through VENDOR_TABLE.rcpRsqrtApprox) ----

const RCP_CODES = [Code.Rcpps_xmm_xmmm128, Code.Rcpss_xmm_xmmm32, Code.Rsqrtps_xmm_xmmm128, Code.Rsqrtss_xmm_xmmm32];

/** A binary32 operand: specials, normals of every range, and the magnitudes where RCP results become tiny. */
function approxOperand(rng: Rng): number {
  const k = rng.int(100), s = rng.chance(0.3) ? 0x80000000 : 0;
  if (k < 15) return f32bits(rng);
  if (k < 25) return (s | ((rng.range(250, 254)) << 23) | (rng.u32() & 0x7fffff)) >>> 0; // near the RCP underflow threshold
  if (k < 35) return (s | (rng.range(1, 254) << 23) | (rng.chance(0.5) ? 0 : rng.u32() & 0x7fffff)) >>> 0; // any exponent
  return (s | ((127 + rng.range(-30, 30)) << 23) | (rng.u32() & 0x7fffff)) >>> 0;
}

function approxValue(rng: Rng): Uint8Array {
  const b = new Uint8Array(16), dv = new DataView(b.buffer);
  for (let i = 0; i < 4; i++) dv.setUint32(4 * i, approxOperand(rng), true);
  return b;
}

const rcp: Family = {
  name: 'rcp', count: 600, codes: () => RCP_CODES, detail: { xmm: true },
  gen(ctx) {
    const rng = ctx.rng, dv = new DataView(ctx.fx.buffer);
    // any MXCSR: the approximations neither raise nor honour DAZ/FTZ/rounding (the SDM's special cases decide)
    dv.setUint32(24, (rng.chance(0.5) ? 0x1f80 : rng.u32() & 0xffc0) | (rng.chance(0.3) ? rng.int(64) : 0), true);
    randomInsn(ctx, rng.pick(RCP_CODES), {
      memP: 0.35,
      memOpts: (c, ci) => ({ fill: approxValue(c.rng).subarray(0, ci.memSize || 16), align: ci.memSize === 16 ? 16 : 1, alignP: 0.93 }),
      after: (c, _ci, regs) => { for (const r of regs) if (r >= Register.XMM0 && r <= Register.XMM15) c.fx.set(approxValue(rng), 160 + 16 * (r - Register.XMM0)); },
    });
  },
};

// ---- x87 ---------------------------------------------------------------------------------------------

const x87Codes = (): number[] => byMnemonic(/^(F.*|Wait)$/, new RegExp([
  // transcendental: results are implementation-specific in the last bits
  'F2xm1', 'Fyl2x', 'Fyl2xp1', 'Fptan', 'Fpatan', 'Fsin', 'Fcos', 'Fsincos',
  // environment/state images hold FIP/FDP/FOP, which this CPU generation no longer maintains architecturally
  'Fldenv', 'Fnstenv', 'Fstenv', 'Fnsave', 'Fsave', 'Frstor', 'Fxsave', 'Fxrstor',
  // MMX
  'Femms',
].join('|')));

function x87MemFill(rng: Rng, ci: CodeInfo): Uint8Array {
  const n = ci.name;
  if (/m32fp/.test(n)) return le64(BigInt(f32bits(rng))).subarray(0, 4);
  if (/m64fp/.test(n)) return le64(f64bits(rng));
  if (/m80fp/.test(n)) return f80(rng);
  if (/m16int/.test(n)) return le64(interesting64(rng)).subarray(0, 2);
  if (/m32int/.test(n)) return le64(interesting64(rng)).subarray(0, 4);
  if (/m64int/.test(n)) return le64(interesting64(rng));
  if (/m80bcd/.test(n)) {
    const b = new Uint8Array(10);
    for (let i = 0; i < 9; i++) b[i] = rng.chance(0.03) ? rng.int(256) : rng.int(10) | (rng.int(10) << 4);
    if (rng.chance(0.3)) b.fill(0, rng.int(9), 9);
    b[9] = rng.chance(0.5) ? 0x80 : rng.chance(0.05) ? rng.int(256) : 0;
    return b;
  }
  if (/Fldcw/.test(n)) return le64(BigInt((rng.u32() & 0xffc0) | 0x3f)).subarray(0, 2);
  return le64(interesting64(rng)).subarray(0, Math.max(ci.memSize, 2));
}

/**
 * Transcendental instructions only with operands whose results the SDM defines exactly: zeros, infinities,
 * NaNs, empty registers, and |x| >= 2^63 for FSIN/FCOS/FSINCOS/FPTAN (C2 = 1, operand unchanged).
 */
function transcendental(ctx: Ctx, top: number): void {
  const rng = ctx.rng, fx = ctx.fx;
  const code = rng.pick([Code.Fsin, Code.Fcos, Code.Fsincos, Code.Fptan, Code.F2xm1, Code.Fyl2x, Code.Fyl2xp1, Code.Fpatan]);
  const mn = info(code).mnemonic;
  const v = (sign: number, exp: number, mant: bigint): Uint8Array => {
    const b = new Uint8Array(10), dv = new DataView(b.buffer);
    dv.setBigUint64(0, mant, true); dv.setUint16(8, (sign << 15) | exp, true); return b;
  };
  const J = 1n << 63n, sg = (): number => rng.int(2);
  const zero = (): Uint8Array => v(sg(), 0, 0n), inf = (): Uint8Array => v(sg(), 0x7fff, J);
  const qnan = (): Uint8Array => v(sg(), 0x7fff, J | (1n << 62n) | (rng.u64() & 0xffffn));
  const snan = (): Uint8Array => v(sg(), 0x7fff, J | 1n + (rng.u64() & 0xffffn));
  const normal = (): Uint8Array => v(sg(), 16383 + rng.range(-20, 20), J | (rng.u64() & (J - 1n)));
  const huge = (): Uint8Array => v(sg(), 16383 + rng.range(63, 200), J | (rng.u64() & (J - 1n)));
  let st0: Uint8Array | null, st1: Uint8Array | null = normal();
  const empty = rng.chance(0.1);
  if (/^(Fsin|Fcos|Fsincos|Fptan)$/.test(mn)) st0 = rng.pick([zero, inf, qnan, snan, huge, huge])();
  else if (mn === 'Fpatan') { st0 = rng.chance(0.7) ? v(0, 16383 + rng.range(-20, 20), J | (rng.u64() & (J - 1n))) : qnan(); st1 = rng.pick([zero, zero, qnan, snan])(); }
  else if (mn === 'Fyl2x') { st0 = rng.pick([() => v(0, 16383, J), qnan, snan])(); st1 = rng.pick([normal, qnan, zero])(); } // log2(1) = 0
  else st0 = rng.pick([zero, zero, qnan, snan])();
  if (empty) st0 = null;
  const ab0 = fx[4]!;
  let ab = ab0 & ~(1 << top) & ~(1 << ((top + 1) & 7));
  if (st0) { fx.set(st0, 32); ab |= 1 << top; }
  if (st1 && rng.chance(0.95)) { fx.set(st1, 48); ab |= 1 << ((top + 1) & 7); }
  fx[4] = ab;
  randomInsn(ctx, code);
}

const x87: Family = {
  name: 'x87', count: 3500, codes: x87Codes, detail: { x87: true },
  gen(ctx) {
    const rng = ctx.rng, fx = ctx.fx, dv = new DataView(fx.buffer);
    const pc = rng.pick([3, 3, 3, 2, 2, 0]), rc = rng.chance(0.75) ? 0 : rng.int(4);
    dv.setUint16(0, 0x7f | (pc << 8) | (rc << 10) | (rng.chance(0.1) ? 0x1000 : 0), true);
    const top = rng.int(8);
    let fsw = top << 11;
    if (rng.chance(0.3)) fsw |= rng.u32() & 0x4700;
    if (rng.chance(0.1)) fsw |= rng.u32() & 0x3f;
    dv.setUint16(2, fsw, true);
    const full = rng.chance(0.15) ? rng.int(256) : (1 << rng.pick([0, 1, 2, 2, 3, 3, 4, 5, 8])) - 1; // stack slots in use (ST order)
    let ab = 0;
    for (let i = 0; i < 8; i++) {
      fx.set(f80(rng), 32 + 16 * i);
      if ((full >> i) & 1) ab |= 1 << ((top + i) & 7);
    }
    fx[4] = ab;
    if (rng.chance(0.06)) { transcendental(ctx, top); return; }
    ctx.seq = rng.chance(0.35);
    const n = ctx.seq ? rng.range(2, 3) : 1;
    const codes = x87Codes().filter((c) => !ctx.seq || !/^Fn?stsw/.test(info(c).mnemonic));
    for (let i = 0; i < n; i++) {
      randomInsn(ctx, rng.pick(codes), { memP: 1, memOpts: (c, ci) => ({ fill: x87MemFill(c.rng, ci) }) });
    }
  },
};

// ---- flags: producers followed by consumers (lazy-flag materialisation across families) ---------------

const byMn = (codes: number[], re: RegExp): number[] => codes.filter((c) => re.test(info(c).mnemonic));
let flagLists: { producers: number[]; consumers: number[]; jcc: number[] } | undefined;
function flagCodes(): { producers: number[]; consumers: number[]; jcc: number[] } {
  if (!flagLists) {
    const misc = byMnemonic(/^(Clc|Stc|Cmc|Sahf)$/);
    flagLists = {
      producers: [...aluCodes(), ...shiftCodes(), ...byMn(muldivCodes(), /^(Mul|Imul)$/), ...byMn(bitCodes(), /^(Bt|Bts|Btr|Btc|Bsf|Bsr|Popcnt)$/),
        ...byMn(movCodes(), /^(Cmpxchg|Xadd)$/), ...misc],
      consumers: [...byMn(bitCodes(), /^Set/), ...byMn(movCodes(), /^Cmov/), ...byMn(aluCodes(), /^(Adc|Sbb)$/),
        ...byMn(shiftCodes(), /^(Rcl|Rcr)$/), ...byMnemonic(/^(Lahf|Cmc|Pushfq)$/)],
      jcc: byMn(branchCodes(), /^J(?!mp|rcxz|ecxz)/),
    };
  }
  return flagLists;
}

const flags: Family = {
  name: 'flags', count: 2500, codes: () => { const f = flagCodes(); return [...new Set([...f.producers, ...f.consumers, ...f.jcc])]; },
  gen(ctx) {
    const rng = ctx.rng, f = flagCodes();
    ctx.seq = true;
    const n = rng.range(2, 4);
    for (let i = 0; i < n; i++) {
      const last = i === n - 1;
      if (last && rng.chance(0.25)) { ctx.nExits = 2; if (rng.chance(0.3)) ctx.exitsBefore = 1; randomInsn(ctx, rng.pick(f.jcc)); break; }
      const code = last || rng.chance(0.3) ? rng.pick(f.consumers) : rng.pick(f.producers);
      const mn = info(code).mnemonic;
      if (/^(Bt|Bts|Btr|Btc|Bsf|Bsr|Popcnt)$/.test(mn)) emitBit(ctx, code); else emitShift(ctx, code);
    }
  },
};

// ---- self-modifying code ------------------------------------------------------------------------------

const smc: Family = {
  name: 'smc', count: 300, codes: () => [],
  gen(ctx) {
    // a store into an instruction further on (same block, or past the decoder's lookahead), then that instruction
    const rng = ctx.rng, k = rng.pick([0, 0, 1, 2, 7, 30, 120, 250]);
    ctx.selfModifying = true;
    const fill = new Array<number>(k).fill(0x90);
    const v = rng.u32();
    const variants: number[][] = [
      // mov dword [rip + k + 1], v ; nops ; mov eax, imm32 (the immediate is replaced)
      [0xc7, 0x05, k + 1, 0, 0, 0, v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24, ...fill, 0xb8, 1, 2, 3, 4],
      // mov byte [rip + k + 1], 0xc8 ; nops ; inc eax -> dec eax (the ModRM byte is replaced)
      [0xc6, 0x05, k + 1, 0, 0, 0, 0xc8, ...fill, 0xff, 0xc0],
      // mov word [rip + k], 0x9090 ; nops ; ud2 -> nop nop
      [0x66, 0xc7, 0x05, k, 0, 0, 0, 0x90, 0x90, ...fill, 0x0f, 0x0b],
      // add byte [rip + k + 1], 8 ; nops ; add rax, rcx -> or rax, rcx (the opcode byte changes)
      [0x80, 0x05, k + 1, 0, 0, 0, 0x08, ...fill, 0x48, 0x01, 0xc8],
    ];
    const bytes = rng.pick(variants);
    for (let i = 0; i < bytes.length; i += 16) { // DeclareByte holds at most 16 bytes
      const part = new Uint8Array(bytes.slice(i, i + 16));
      ctx.add(() => Instruction.createDeclareByte(part));
    }
  },
};

// ---- system (what user mode may observe of it) -------------------------------------------------------

const systemCodes = (): number[] => byMnemonic(/^(In|Out|Lgdt|Lidt|Lldt|Ltr|Lmsw|Invlpg)$/);
/** Raw encodings: INS/OUTS (#GP at CPL 3), MOV to/from CR (#GP), MOV r/m, Sreg (reads), PUSH FS/GS. */
const SYSTEM_RAW: number[][] = [
  [0x6c], [0x6d], [0x6e], [0x6f], [0xf3, 0x6c], [0xf3, 0x6f], [0x66, 0x6d],
  [0x0f, 0x20, 0xc0], [0x0f, 0x20, 0xd8], [0x0f, 0x22, 0xd8], [0x0f, 0x20, 0xe1], [0x44, 0x0f, 0x20, 0xc0],
  [0x0f, 0xa0], [0x0f, 0xa8], [0x66, 0x0f, 0xa0], [0x66, 0x0f, 0xa8],
];

const system: Family = {
  name: 'system', count: 500, codes: systemCodes,
  gen(ctx) {
    const rng = ctx.rng, k = rng.int(100);
    if (k < 30) { const b = rng.pick(SYSTEM_RAW); ctx.add(() => Instruction.createDeclareByte(new Uint8Array(b))); return; }
    if (k < 55) { // MOV r/m, Sreg: selectors as user mode sees them (ES DS FS GS null, CS 0x33, SS 0x2b)
      const sreg = rng.int(6), r = rng.int(8), pre = rng.pick([[], [0x66], [0x48], [0x41], [0x49]]);
      ctx.add(() => Instruction.createDeclareByte(new Uint8Array([...pre, 0x8c, 0xc0 | (sreg << 3) | r])));
      return;
    }
    randomInsn(ctx, rng.pick(systemCodes()), { memP: 0.5 });
  },
};

// ---- avx: AVX and AVX2 (x86-64-v3) ----------------------------------------------------------------------

const AVX_FEATURES = new Set<number>([CpuidFeature.AVX, CpuidFeature.AVX2]);
let avxList: number[] | undefined;
/** Every AVX/AVX2 Code the generator can encode (the coverage line reports those without a handler). */
const avxCodes = (): number[] => {
  if (avxList) return avxList;
  avxList = vexCodes().filter((c) => {
    const ins = Instruction.create(c);
    const feats = Array.from(ins.cpuidFeatures());
    ins.free();
    return feats.length > 0 && feats.every((f) => AVX_FEATURES.has(f)) && !/^VEX_V(ldmxcsr|stmxcsr|zeroall)/.test(Code[c] ?? '');
  });
  return avxList;
};
let avxDone: number[] | undefined;
const avxImplemented = (): number[] => {
  if (avxDone) return avxDone;
  const impl = new Set(implementedCodes().map((c) => c.code));
  // VRCPPS/VRSQRTPS and the scalar forms: the approximations differ between vendors; the rcp family judges
  // the shared implementation (the SSE handlers, which the VEX forms run) against the vendor table
  avxDone = avxCodes().filter((c) => impl.has(c) && !/^VEX_V(rcp|rsqrt)/.test(Code[c] ?? ''));
  return avxDone;
};

const avx: Family = {
  name: 'avx', count: 4000, codes: avxCodes, level: 3, needs: ['avx', 'avx2'], detail: { xmm: true },
  gen(ctx) {
    const rng = ctx.rng, dv = new DataView(ctx.fx.buffer);
    dv.setUint32(24, randomMxcsr(rng), true);
    const ymmh = new Uint8Array(256);
    for (let i = 0; i < 16; i++) ymmh.set(xmmValue(rng), 16 * i);
    ctx.ymmh = ymmh;
    ctx.seq = rng.chance(0.2);
    const n = ctx.seq ? 2 : 1;
    for (let i = 0; i < n; i++) {
      const code = rng.pick(avxImplemented()), ci = info(code);
      randomInsn(ctx, code, { memP: 0.35, memOpts: () => ({ align: ci.memSize || 1, alignP: 0.95 }) });
    }
  },
};

export const FAMILIES: Family[] = [alu, shift, muldiv, bit, mov, flags, stack, branch, string, misc, sse, sse4, mmx, rcp, x87, system, smc, bmi, avx];

/** Generate case `index` of a family (deterministic in seed, family and index). */
export function generate(fam: Family, seed: number, index: number): DiffCase {
  const rng = new Rng(seed, fam.name, index);
  let last: unknown;
  for (let attempt = 0; attempt < 200; attempt++) {
    const ctx = new Ctx(rng, fam.name, index);
    try {
      fam.gen(ctx);
      return finish(ctx);
    } catch (e) {
      if (!(e instanceof Retry)) throw e;
      last = e;
    }
  }
  throw new Error(`${fam.name}:${index}: could not generate a valid case (${String(last)})`);
}

export { Code, MemoryOperand, Mnemonic };
