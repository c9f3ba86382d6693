// The general-purpose registers an instruction may write, explicit and implicit (RSP of PUSH/CALL, RDX of CQO,
// ...), from iced's instruction-info tables: a bit mask over register numbers 0..15. Used when compiling logging
// blocks, which compare only these registers after the instruction. Null if it writes a register other than a
// GPR, RIP or the flags (the caller then compares a wider set).
import { Decoder, DecoderOptions, Instruction, InstructionInfoFactory, OpAccess, Register } from 'iced-x86';
import type { Decoded } from '../decoded.js';
import { RegClass, regRef } from '../decoded.js';

const WRITES = new Set([OpAccess.Write, OpAccess.CondWrite, OpAccess.ReadWrite, OpAccess.ReadCondWrite]);

let factory: InstructionInfoFactory | null = null;
const ins = new Instruction();

/** Bit n set: GPR n may be written by `d`; null if `d` writes other architectural registers. */
export function writtenGprs(d: Decoded): number | null {
  factory ??= new InstructionInfoFactory();
  const dec = new Decoder(64, d.bytes, DecoderOptions.None);
  try {
    dec.ip = (BigInt(d.ipHi) << 32n) | BigInt(d.ipLo);
    dec.decodeOut(ins);
    const info = factory.info(ins);
    let mask: number | null = 0;
    for (const u of info.usedRegisters() as { register: Register; access: OpAccess; free(): void }[]) {
      const { register, access } = u;
      u.free();
      if (!WRITES.has(access) || mask === null) continue;
      const ref = regRef(register);
      if (ref.cls === RegClass.GPR) mask |= 1 << ref.n;
      else if (ref.cls !== RegClass.RIP) mask = null;
    }
    info.free();
    return mask;
  } finally {
    dec.free();
  }
}
