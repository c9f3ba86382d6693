// A decoded instruction as plain data, extracted once from iced-x86's Instruction on a decode-cache miss.
// Handlers are built from this record only, so no WASM object is touched while executing.
import { EncodingKind, Instruction, MemorySizeExt, OpKind, Register, RflagsBits } from 'iced-x86';
import type { CpuLevel } from './cpu-level.js';
import { minimumLevel } from './instruction-level.js';

/** Operand kinds as the handlers see them. */
export const enum OpType { NONE = 0, REG = 1, MEM = 2, IMM = 3, BRANCH = 4 }

/** Register classes. */
export const enum RegClass { NONE = 0, GPR = 1, XMM = 2, ST = 3, SEG = 4, CR = 5, DR = 6, MM = 7, RIP = 8 }

/** A register operand: class, number within the class, size in bytes, and whether it is AH/CH/DH/BH. */
export interface RegRef {
  /** Register class. */
  cls: RegClass;
  /** Number within the class (GPR 0..15 in encoding order; for AH..BH the number of RAX..RBX). */
  n: number;
  /** Size in bytes. */
  size: number;
  /** True for AH, CH, DH, BH (bits 8..15 of RAX..RBX). */
  high8: boolean;
}

/** A memory operand. The effective address is seg.base + base + index * scale + disp (mod 2^64, or 2^32 with addr32). */
export interface MemRef {
  /** Base GPR number, or -1. RIP-relative operands have base -1 and the absolute address in disp. */
  base: number;
  /** Index GPR number, or -1. */
  index: number;
  /** Index scale: 1, 2, 4 or 8. */
  scale: number;
  /** Displacement (sign-extended to 64 bits), lo half. */
  dispLo: number;
  /** Displacement, hi half. */
  dispHi: number;
  /** Segment whose base is added: 4 (FS) or 5 (GS); -1 for none (flat). */
  seg: number;
  /** 32-bit address size (0x67 prefix): the address is truncated to 32 bits. */
  addr32: boolean;
  /** Size of the accessed memory in bytes (0 for LEA-like uses where iced reports none). */
  size: number;
}

/** One decoded instruction. */
export interface Decoded {
  /** iced-x86 `Code` of the instruction (the key of the instruction table). */
  code: number;
  /** iced-x86 `Mnemonic`. */
  mnemonic: number;
  /** Length in bytes. */
  length: number;
  /** The instruction bytes. */
  bytes: Uint8Array;
  /** Linear address of the instruction, lo half. */
  ipLo: number;
  /** Linear address of the instruction, hi half. */
  ipHi: number;
  /** Linear address of the next instruction, lo half. */
  nextLo: number;
  /** Linear address of the next instruction, hi half. */
  nextHi: number;
  /** Number of operands. */
  opCount: number;
  /** Kind of each operand. */
  ops: OpType[];
  /** Register of each REG operand (undefined for others). */
  regs: (RegRef | undefined)[];
  /** The memory operand, if any. */
  mem: MemRef | undefined;
  /** Immediate (first), sign- or zero-extended as the encoding defines to 64 bits, lo half. */
  immLo: number;
  /** Immediate, hi half. */
  immHi: number;
  /** Size in bytes of the immediate as it will be used (the operand size it was extended to). */
  immSize: number;
  /** Second 8-bit immediate (ENTER, EXTRQ). */
  imm2: number;
  /** Branch target for near branches, lo half. */
  targetLo: number;
  /** Branch target, hi half. */
  targetHi: number;
  /** Repeat prefix: 0 none, 1 REP/REPE, 2 REPNE. */
  rep: number;
  /** LOCK prefix present. */
  lock: boolean;
  /** Condition code nibble 0..15 for Jcc/SETcc/CMOVcc/FCMOVcc, -1 for none. */
  cc: number;
  /** RFLAGS bits (architectural mask) the SDM leaves undefined after this instruction. */
  flagsUndefined: number;
  /** RFLAGS bits (architectural mask) this instruction writes. */
  flagsWritten: number;
  /** RFLAGS bits (architectural mask) this instruction reads. */
  flagsRead: number;
  /** Operand size in bytes implied by the instruction (the size of operand 0 if it is a GPR or memory; 0 otherwise). */
  opSize: number;
  /** Encoded with a VEX prefix (AVX): VCMPPS and friends take 32 predicates instead of 8. */
  vex: boolean;
  /** The lowest CPU model (cpu-level.ts) that executes it; under a lower one it raises #UD. */
  level: CpuLevel;
  /** Recorder cache: row of the trace's code table for these bytes at this address (-1 until recorded). */
  codeId: number;
  /** Recorder cache: the Tier of what the instruction can write (written-state.ts; -1 until computed). */
  logTier: number;
}

/** Map iced's RflagsBits to architectural RFLAGS positions. */
export function archFlags(iced: number): number {
  let f = 0;
  if (iced & RflagsBits.OF) f |= 0x800;
  if (iced & RflagsBits.SF) f |= 0x80;
  if (iced & RflagsBits.ZF) f |= 0x40;
  if (iced & RflagsBits.AF) f |= 0x10;
  if (iced & RflagsBits.CF) f |= 0x1;
  if (iced & RflagsBits.PF) f |= 0x4;
  if (iced & RflagsBits.DF) f |= 0x400;
  if (iced & RflagsBits.IF) f |= 0x200;
  if (iced & RflagsBits.AC) f |= 0x40000;
  return f;
}

/** Describe an iced register as a RegRef. */
export function regRef(r: Register): RegRef {
  if (r >= Register.AL && r <= Register.BL) return { cls: RegClass.GPR, n: r - Register.AL, size: 1, high8: false };
  if (r >= Register.AH && r <= Register.BH) return { cls: RegClass.GPR, n: r - Register.AH, size: 1, high8: true };
  if (r >= Register.SPL && r <= Register.R15L) return { cls: RegClass.GPR, n: r - Register.SPL + 4, size: 1, high8: false };
  if (r >= Register.AX && r <= Register.R15W) return { cls: RegClass.GPR, n: r - Register.AX, size: 2, high8: false };
  if (r >= Register.EAX && r <= Register.R15D) return { cls: RegClass.GPR, n: r - Register.EAX, size: 4, high8: false };
  if (r >= Register.RAX && r <= Register.R15) return { cls: RegClass.GPR, n: r - Register.RAX, size: 8, high8: false };
  if (r >= Register.ES && r <= Register.GS) return { cls: RegClass.SEG, n: r - Register.ES, size: 2, high8: false };
  if (r >= Register.XMM0 && r <= Register.XMM15) return { cls: RegClass.XMM, n: r - Register.XMM0, size: 16, high8: false };
  if (r >= Register.YMM0 && r <= Register.YMM15) return { cls: RegClass.XMM, n: r - Register.YMM0, size: 32, high8: false };
  if (r >= Register.ST0 && r <= Register.ST7) return { cls: RegClass.ST, n: r - Register.ST0, size: 10, high8: false };
  if (r >= Register.MM0 && r <= Register.MM7) return { cls: RegClass.MM, n: r - Register.MM0, size: 8, high8: false };
  if (r >= Register.CR0 && r <= Register.CR15) return { cls: RegClass.CR, n: r - Register.CR0, size: 8, high8: false };
  if (r >= Register.DR0 && r <= Register.DR15) return { cls: RegClass.DR, n: r - Register.DR0, size: 8, high8: false };
  if (r === Register.RIP || r === Register.EIP) return { cls: RegClass.RIP, n: 0, size: 8, high8: false };
  return { cls: RegClass.NONE, n: 0, size: 0, high8: false };
}

function gprNumber(r: Register): number {
  if (r === Register.None) return -1;
  if (r >= Register.RAX && r <= Register.R15) return r - Register.RAX;
  if (r >= Register.EAX && r <= Register.R15D) return r - Register.EAX;
  return -2; // RIP/EIP: handled by the caller
}

const lo32 = (v: bigint): number => Number(v & 0xffffffffn);
const hi32 = (v: bigint): number => Number((v >> 32n) & 0xffffffffn);

function immediateOf(ins: Instruction, kind: OpKind): [bigint, number] {
  switch (kind) {
    case OpKind.Immediate8: return [BigInt(ins.immediate8), 1];
    case OpKind.Immediate16: return [BigInt(ins.immediate16), 2];
    case OpKind.Immediate32: return [BigInt(ins.immediate32), 4];
    case OpKind.Immediate64: return [ins.immediate64, 8];
    case OpKind.Immediate8to16: return [BigInt(ins.immediate8to16 & 0xffff), 2];
    case OpKind.Immediate8to32: return [BigInt(ins.immediate8to32 >>> 0), 4];
    case OpKind.Immediate8to64: return [BigInt.asUintN(64, ins.immediate8to64), 8];
    case OpKind.Immediate32to64: return [BigInt.asUintN(64, ins.immediate32to64), 8];
    default: return [0n, 0];
  }
}

/** Extract a Decoded record from a decoded iced Instruction and its bytes. */
export function fromIced(ins: Instruction, bytes: Uint8Array): Decoded {
  const opCount = ins.opCount;
  const ops: OpType[] = [];
  const regs: (RegRef | undefined)[] = [];
  let mem: MemRef | undefined;
  let imm = 0n, immSize = 0, haveImm = false;
  let target = 0n;
  for (let i = 0; i < opCount; i++) {
    const k = ins.opKind(i);
    if (k === OpKind.Register) {
      ops.push(OpType.REG); regs.push(regRef(ins.opRegister(i)));
    } else if (k === OpKind.Memory) {
      ops.push(OpType.MEM); regs.push(undefined);
      const baseReg = ins.memoryBase;
      const ripRel = baseReg === Register.RIP || baseReg === Register.EIP;
      const disp = ripRel ? ins.ipRelMemoryAddress : ins.memoryDisplacementU64;
      const seg = ins.segmentPrefix === Register.FS ? 4 : ins.segmentPrefix === Register.GS ? 5 : -1;
      const addr32 = (baseReg >= Register.EAX && baseReg <= Register.R15D) || baseReg === Register.EIP ||
        (ins.memoryIndex >= Register.EAX && ins.memoryIndex <= Register.R15D);
      mem = {
        base: ripRel ? -1 : gprNumber(baseReg), index: gprNumber(ins.memoryIndex), scale: ins.memoryIndexScale,
        dispLo: lo32(disp), dispHi: hi32(disp), seg, addr32, size: MemorySizeExt.size(ins.memorySize),
      };
    } else if (k >= OpKind.MemorySegSI && k <= OpKind.MemoryESRDI) {
      ops.push(OpType.MEM); regs.push(undefined); // string operands: handlers use RSI/RDI directly
    } else if (k === OpKind.NearBranch16 || k === OpKind.NearBranch32 || k === OpKind.NearBranch64) {
      ops.push(OpType.BRANCH); regs.push(undefined); target = ins.nearBranchTarget;
    } else if (k === OpKind.Immediate8_2nd) {
      ops.push(OpType.IMM); regs.push(undefined);
    } else if (k >= OpKind.Immediate8 && k <= OpKind.Immediate32to64) {
      ops.push(OpType.IMM); regs.push(undefined);
      if (!haveImm) { [imm, immSize] = immediateOf(ins, k); haveImm = true; }
    } else {
      ops.push(OpType.NONE); regs.push(undefined);
    }
  }
  const ip = ins.ip, next = ins.nextIP;
  const cc = ins.conditionCode;
  return {
    code: ins.code, mnemonic: ins.mnemonic, length: ins.length, bytes: bytes.slice(0, ins.length),
    ipLo: lo32(ip), ipHi: hi32(ip), nextLo: lo32(next), nextHi: hi32(next),
    opCount, ops, regs, mem,
    immLo: lo32(imm), immHi: hi32(imm), immSize, imm2: ins.immediate8_2nd,
    targetLo: lo32(target), targetHi: hi32(target),
    rep: ins.hasRepnePrefix ? 2 : ins.hasRepePrefix || ins.hasRepPrefix ? 1 : 0,
    lock: ins.hasLockPrefix,
    cc: cc === 0 ? -1 : cc - 1,
    flagsUndefined: archFlags(ins.rflagsUndefined),
    flagsWritten: archFlags(ins.rflagsModified),
    flagsRead: archFlags(ins.rflagsRead),
    vex: ins.encoding === EncodingKind.VEX,
    level: minimumLevel(ins.code, ins.cpuidFeatures()),
    codeId: -1,
    logTier: -1,
    opSize: regs[0]?.cls === RegClass.GPR ? regs[0].size : ops[0] === OpType.MEM ? (mem?.size ?? 0) : 0,
  };
}
