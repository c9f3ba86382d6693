// What an instruction writes, as the recorder's compare set: the general-purpose registers, RFLAGS, the XMM
// registers, MXCSR, the x87 state, or anything (system state). Derived from two sources only: iced-x86's
// instruction info (the registers each operand and implicit operand writes, the RFLAGS bits and x87 condition
// codes it modifies) and the instruction table's `writes` (src/cpu/table.ts), the processor's own facts for
// state iced does not model (MXCSR, FXRSTOR's XMM registers, the x87 stack top, tags and pointers, MSRs, CPL).
// The recorder's per-step compare, the compiled logging blocks and the tests all read it.
import { Decoder, DecoderOptions, Instruction, InstructionInfoFactory, OpAccess, Register, RflagsBits } from 'iced-x86';
import type { Decoded } from './decoded.js';
import { archFlags, RegClass, regRef } from './decoded.js';
import { Tier } from './step-log.js';
import { Implicit } from './op-spec.js';
import { implicitWrites, specOf } from './table.js';

/** What an instruction may write. */
export interface WrittenState {
  /** Bit n set: GPR n may be written (explicit and implicit operands: RSP of PUSH, RDX of CQO, ...). */
  readonly gprs: number;
  /** The register groups beyond the GPRs (Tier bits: FLAGS, MXCSR, X87, ALL, and XMM register n as Tier.XMM0 << n). */
  readonly tier: number;
}

const WRITES = new Set([OpAccess.Write, OpAccess.CondWrite, OpAccess.ReadWrite, OpAccess.ReadCondWrite]);
/** iced's x87 condition codes (C0..C3 of the FPU status word), reported among the modified RFLAGS bits. */
const X87_CC = RflagsBits.C0 | RflagsBits.C1 | RflagsBits.C2 | RflagsBits.C3;
/** Tier bits of all 16 XMM registers. */
const ALL_XMM = 0xffff * Tier.XMM0;

let factory: InstructionInfoFactory | null = null;
const ins = new Instruction();

/** The Tier bits of the table's implicit-write facts. */
function implicitTier(w: number): number {
  let t = 0;
  if (w & Implicit.MXCSR) t |= Tier.MXCSR;
  if (w & Implicit.X87) t |= Tier.X87;
  if (w & Implicit.SYSTEM) t |= Tier.ALL;
  if (w & Implicit.FLAGS) t |= Tier.FLAGS;
  return (w & Implicit.XMM) !== 0 ? t + ALL_XMM : t;
}

/** What `d` may write (iced's instruction info plus the table's implicit writes). */
export function writtenState(d: Decoded): WrittenState {
  // an instruction the table does not implement raises #UD: exception delivery may change anything
  if (specOf(d.code) === undefined) return { gprs: 0xffff, tier: Tier.ALL };
  factory ??= new InstructionInfoFactory();
  const dec = new Decoder(64, d.bytes, DecoderOptions.None);
  try {
    dec.ip = (BigInt(d.ipHi) << 32n) | BigInt(d.ipLo);
    dec.decodeOut(ins);
    const info = factory.info(ins);
    let gprs = 0, tier = 0, xmm = 0;
    for (const u of info.usedRegisters() as { register: Register; access: OpAccess; free(): void }[]) {
      const { register, access } = u;
      u.free();
      if (!WRITES.has(access)) continue;
      if (register >= Register.YMM0 && register <= Register.YMM15) { xmm |= 1 << (register - Register.YMM0); continue; }
      const ref = regRef(register);
      if (ref.cls === RegClass.GPR) gprs |= 1 << ref.n;
      else if (ref.cls === RegClass.XMM) xmm |= 1 << ref.n;
      else if (ref.cls === RegClass.ST || ref.cls === RegClass.MM) tier |= Tier.X87;
      else if (ref.cls !== RegClass.RIP) tier |= Tier.ALL; // segment, control, debug registers, anything else
    }
    info.free();
    const modified = ins.rflagsModified;
    if (archFlags(modified) !== 0) tier |= Tier.FLAGS;
    if (modified & X87_CC) tier |= Tier.X87;
    const implicit = implicitTier(implicitWrites(d.code));
    return { gprs, tier: (tier | (implicit & 0xffff)) + ((xmm | xmmMask(implicit)) & 0xffff) * Tier.XMM0 };
  } finally {
    dec.free();
  }
}

/** The Tier of `d` (cached on it as Decoded.logTier). */
export function writtenTier(d: Decoded): number {
  let t = d.logTier;
  if (t < 0) { t = writtenState(d).tier; d.logTier = t; }
  return t;
}

/** The XMM registers of a tier, as a 16-bit mask. */
export function xmmMask(tier: number): number {
  return Math.floor(tier / Tier.XMM0) & 0xffff;
}
