// Judging vendor-dependent cases: for every entry of the CPU model's vendor table
// (src/cpu/vendor-model.ts) where the host's processor does not compute what the model documents, the
// case is still run on the host, but either with its code rewritten into same-length instructions that
// every x86-64 processor executes as the model documents (hostCode), or with the host's result turned
// into the model's documented result (expect). Both rewrites are exact on any host, so they can also be
// forced on a host that would agree (ITRACE_DIFF_JUDGE=all), which is how the tests check them.
import { readFileSync } from 'node:fs';
import { Code, Decoder, DecoderOptions, Instruction, OpKind, Register } from 'iced-x86';
import {
  CPU_MODEL, VENDOR_BEHAVIOUR_IDS, VENDOR_TABLE, Vendor, VendorBehaviourId, vendorOf,
} from '../../src/cpu/vendor-model.js';
import { baseline, CaseResult, CODE_BASE, DATA_BASE, DiffCase } from './harness.js';

/** One decoded instruction of a case: its offset in the code page, bytes and iced facts. */
export interface CaseInsn {
  /** Offset of the instruction in the code page. */
  at: number;
  /** Index in the case's instruction sequence (0 = the first instruction executed). */
  index: number;
  /** The instruction's bytes. */
  bytes: Uint8Array;
  /** iced Code. */
  code: Code;
  /** The first operand is a register. */
  op0Reg: boolean;
  /** REP/REPE/REPNE prefix present. */
  rep: boolean;
  /** 67h address-size prefix present. */
  a32: boolean;
  /** Immediate (count) of an imm8 form, else -1. */
  imm8: number;
}

/** How one vendor-table entry is judged; every hook returns null when the case does not concern it. */
interface Judge {
  /** Bytes for the instruction that make any host compute the model's result (same length). */
  hostCode?(c: DiffCase, insn: CaseInsn): Uint8Array | null;
  /** The model's documented result, from the host's result of the unmodified case. */
  expect?(c: DiffCase, insns: CaseInsn[], nat: CaseResult): CaseResult | null;
}

/** The host CPU's vendor from /proc/cpuinfo, or null when it is another vendor or cannot be read. */
export function hostVendor(): Vendor | null {
  try {
    const m = /^vendor_id\s*:\s*(\S+)/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    return m ? vendorOf(m[1]!) : null;
  } catch {
    return null;
  }
}

/** Decode the instructions a case executes: from its entry up to its first exit stub. */
export function caseInsns(c: DiffCase): CaseInsn[] {
  const end = c.exits[0]!;
  const bytes = c.code.subarray(c.entry, end);
  const d = new Decoder(64, bytes, DecoderOptions.None);
  d.ip = BigInt(CODE_BASE + c.entry);
  const out: CaseInsn[] = [];
  const ins = new Instruction();
  let at = c.entry;
  while (d.canDecode) {
    d.decodeOut(ins);
    const b = c.code.slice(at, at + ins.length);
    const prefixEnd = b.findIndex((x) => ![0x66, 0x67, 0xf2, 0xf3, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65, 0xf0].includes(x));
    out.push({
      at, index: out.length, bytes: b, code: ins.code,
      op0Reg: ins.opCount > 0 && ins.op0Kind === OpKind.Register,
      rep: ins.hasRepPrefix || ins.hasRepePrefix || ins.hasRepnePrefix,
      a32: b.subarray(0, prefixEnd).includes(0x67),
      imm8: ins.opCount > 0 && [...Array(ins.opCount).keys()].some((k) => ins.opKind(k) === OpKind.Immediate8) ? ins.immediate8 : -1,
    });
    at += ins.length;
  }
  ins.free(); d.free();
  return out;
}

/** A multi-byte NOP of n bytes (0F 1F /0 forms, 66 0F 1F for 6+), defined on every x86-64 processor. */
function nopOf(n: number): Uint8Array {
  const forms: Record<number, number[]> = {
    1: [0x90], 2: [0x66, 0x90], 3: [0x0f, 0x1f, 0x00], 4: [0x0f, 0x1f, 0x40, 0x00], 5: [0x0f, 0x1f, 0x44, 0x00, 0x00],
    6: [0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00], 7: [0x0f, 0x1f, 0x80, 0, 0, 0, 0], 8: [0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0],
  };
  const f = forms[n];
  if (!f) throw new Error(`no ${n}-byte NOP form`);
  return Uint8Array.from(f);
}

const codeSet = (id: VendorBehaviourId): Set<Code> => new Set(VENDOR_TABLE[id].codes());
const mnemonicOf = (code: Code): string => Code[code] ?? '';

/** The judges, keyed by the vendor table (a missing entry is a type error). */
const JUDGES: Record<VendorBehaviourId, Judge> = {
  repA32ZeroCount: {
    // the model executes nothing, which a NOP of the same length computes on every host; the count is
    // known only where the instruction is the first of its case (the string family generates one each)
    hostCode(c, insn) {
      if (!insn.rep || !insn.a32 || !codeSet('repA32ZeroCount').has(insn.code)) return null;
      if (insn.index !== 0) throw new Error(`a 67h REP string instruction after another instruction: its ECX is unknown`);
      return (c.gpr[1]! & 0xffffffffn) === 0n ? nopOf(insn.bytes.length) : null;
    },
  },
  reservedNop0F0DRegister: {
    // 0F 1F /r (the multi-byte NOP) with the same ModRM and prefixes is a NOP on every host
    hostCode(_c, insn) {
      if (!insn.op0Reg || !codeSet('reservedNop0F0DRegister').has(insn.code)) return null;
      const b = insn.bytes.slice();
      const op = b.findIndex((x, i) => x === 0x0f && b[i + 1] === 0x0d);
      b[op + 1] = 0x1f;
      return b;
    },
  },
  shiftDouble16LargeCount: {
    // dest:src:dest shifted left by n (17..31) keeps bits 32-n..47-n, which lie in src:dest: that is
    // SHRD dest, src, 32-n; and dest:src:dest shifted right by n is SHLD dest, src, 32-n
    hostCode(_c, insn) {
      if (insn.imm8 < 0 || !codeSet('shiftDouble16LargeCount').has(insn.code)) return null;
      const n = insn.imm8 & 31;
      if (n <= 16) return null;
      const b = insn.bytes.slice();
      const op = b.findIndex((x, i) => x === 0x0f && (b[i + 1] === 0xa4 || b[i + 1] === 0xac));
      b[op + 1] = b[op + 1] === 0xa4 ? 0xac : 0xa4;
      b[b.length - 1] = 32 - n;
      return b;
    },
  },
  rcpRsqrtApprox: {
    // the host's result must be within what the SDM documents (checked lane by lane); the model's documented
    // value then replaces it. A host outside the SDM is left as it is, so the case fails.
    expect(c, insns, nat) {
      const set = codeSet('rcpRsqrtApprox');
      const insn = insns.find((i) => set.has(i.code));
      if (!insn || nat.kind !== 'exit') return null;
      if (insns.length !== 1) throw new Error('an RCP/RSQRT instruction in a sequence: its operands are unknown');
      const d = new Decoder(64, insn.bytes, DecoderOptions.None);
      d.ip = BigInt(CODE_BASE + insn.at);
      const ins = d.decode();
      try {
        const rsqrt = /^Rsqrt/.test(mnemonicOf(insn.code)), lanes = /ps_/.test(mnemonicOf(insn.code)) ? 4 : 1;
        const src = approxSource(c, ins, 4 * lanes);
        if (!src) return null;
        const dst = 160 + 16 * (ins.op0Register - Register.XMM0), fx = Uint8Array.from(nat.fx), dv = new DataView(fx.buffer), sv = new DataView(src.buffer);
        for (let i = 0; i < lanes; i++) {
          const m = judgeApproxLane(sv.getUint32(4 * i, true), dv.getUint32(dst + 4 * i, true), rsqrt);
          if (m === null) return null;
          dv.setUint32(dst + 4 * i, m, true);
        }
        return { ...nat, fx };
      } finally {
        ins.free(); d.free();
      }
    },
  },
  repCondFaultFlags: {
    // a fault part-way through REPE/REPNE CMPS/SCAS: the model restores RFLAGS to its value before the
    // instruction; the first instruction of a case starts from the case's RFLAGS
    expect(c, insns, nat) {
      if (nat.kind !== 'fault') return null;
      const insn = insns.find((i) => BigInt(CODE_BASE + i.at) === nat.rip);
      if (!insn || !insn.rep || !/^(Cmps|Scas)/.test(mnemonicOf(insn.code))) return null;
      if (insn.index !== 0) throw new Error('a REPE/REPNE CMPS/SCAS fault after another instruction: its RFLAGS before is unknown');
      return { ...nat, rflags: c.rflags };
    },
  },
};

/** SDM bound of RCPxx/RSQRTxx: |relative error| <= 1.5 * 2^-12. */
const APPROX_BOUND = 1.5 * 2 ** -12;
/**
 * RCP operand magnitudes up to the first never give a tiny result; from the second on they always do (flushed to a
 * zero); in between either (SDM "RCPSS": 1.11111111110100000000000B * 2^125 and 1.00000000000110000000001B * 2^126;
 * the SDM's sentence has the two directions swapped, the values only make sense this way round).
 */
const RCP_MAY_FLUSH: [number, number] = [(2 - 2 ** -10 + 2 ** -12) * 2 ** 125, (1 + 2 ** -11 + 2 ** -12 + 2 ** -23) * 2 ** 126];
const f32 = new DataView(new ArrayBuffer(4));
const bitsToF32 = (b: number): number => { f32.setUint32(0, b >>> 0); return f32.getFloat32(0); };
const f32ToBits = (x: number): number => { f32.setFloat32(0, x); return f32.getUint32(0); };

/**
 * The SDM's special cases of RCP (rsqrt = false) and RSQRT for binary32 bits b, or null for a finite nonzero
 * normal operand (whose result only the bound documents).
 */
function approxSpecial(b: number, rsqrt: boolean): number | null {
  const sign = (b & 0x80000000) >>> 0, e = b & 0x7f800000, f = b & 0x7fffff;
  if (e === 0x7f800000 && f) return (b | 0x400000) >>> 0; // QNaN, or the SNaN quieted
  if (e === 0) return (sign | 0x7f800000) >>> 0; // zeros and denormals (treated as zeros): an infinity of the sign
  if (rsqrt && sign) return 0xffc00000; // negative: the QNaN indefinite
  if (e === 0x7f800000) return sign; // infinity: a zero of its sign
  return null;
}

/**
 * Judge one lane: the host's bits h for operand bits b must be what the SDM documents (the special cases
 * exactly, other results within the bound, or a flushed zero where the SDM allows one); returns the model's
 * documented bits, or null when the host is outside what the SDM allows (the case then fails and shows it).
 */
function judgeApproxLane(b: number, h: number, rsqrt: boolean): number | null {
  const special = approxSpecial(b, rsqrt);
  if (special !== null) return h === special ? special : null;
  const x = bitsToF32(b), exact = rsqrt ? 1 / Math.sqrt(x) : 1 / x, hv = bitsToF32(h);
  const flushed = hv === 0 && Object.is(hv, -0) === x < 0; // a zero of the operand's sign
  const within = Math.abs(hv - exact) <= APPROX_BOUND * Math.abs(exact);
  const ax = Math.abs(x);
  const ok = rsqrt || ax <= RCP_MAY_FLUSH[0] ? within : ax >= RCP_MAY_FLUSH[1] ? flushed : within || flushed;
  if (!ok) return null;
  const model = Math.fround(exact); // the model: the binary64 value rounded to binary32, tiny results flushed
  return Math.abs(model) < 2 ** -126 ? ((b & 0x80000000) >>> 0) : f32ToBits(model);
}

/** The source operand bytes (16 or 4) of an RCP/RSQRT instruction: an XMM register of the case, or its data memory. */
function approxSource(c: DiffCase, ins: Instruction, bytes: number): Uint8Array | null {
  if (ins.op1Kind === OpKind.Register) {
    const n = ins.op1Register - Register.XMM0;
    return Uint8Array.from(c.fx.subarray(160 + 16 * n, 160 + 16 * n + bytes));
  }
  const reg = (r: Register): bigint => {
    if (r === Register.None) return 0n;
    if (r >= Register.RAX && r <= Register.R15) return c.gpr[r - Register.RAX]!;
    if (r >= Register.EAX && r <= Register.R15D) return c.gpr[r - Register.EAX]! & 0xffffffffn;
    throw new Error(`address register ${Register[r]}`);
  };
  const rip = ins.memoryBase === Register.RIP || ins.memoryBase === Register.EIP;
  let a = rip ? ins.ipRelMemoryAddress : reg(ins.memoryBase) + reg(ins.memoryIndex) * BigInt(ins.memoryIndexScale) + ins.memoryDisplacementU64;
  a = BigInt.asUintN(ins.memoryBase >= Register.EAX && ins.memoryBase <= Register.R15D ? 32 : 64, a);
  const off = Number(a - BigInt(DATA_BASE));
  const data = baseline();
  for (const [o, p] of c.patches) data.set(p, o);
  return off >= 0 && off + bytes <= data.length ? Uint8Array.from(data.subarray(off, off + bytes)) : null;
}

/** Which entries this host must judge: those its vendor does not match, or all when forced or unknown. */
export function entriesToJudge(vendor: Vendor | null, force = process.env.ITRACE_DIFF_JUDGE === 'all'): VendorBehaviourId[] {
  return VENDOR_BEHAVIOUR_IDS.filter((id) => force || vendor === null || VENDOR_TABLE[id].hostMatchesModel[vendor] !== true);
}

/** Rewrite a case's host code for the entries judged; returns the entries that applied. */
export function judgeHostCode(c: DiffCase, ids: VendorBehaviourId[]): VendorBehaviourId[] {
  const applied: VendorBehaviourId[] = [];
  const insns = caseInsns(c);
  let code: Uint8Array | undefined;
  for (const insn of insns) {
    for (const id of ids) {
      const b = JUDGES[id].hostCode?.(c, insn);
      if (!b) continue;
      if (b.length !== insn.bytes.length) throw new Error(`${id}: host code of another length`);
      code ??= (c.nativeCode ?? c.code).slice();
      code.set(b, insn.at);
      applied.push(id);
    }
  }
  if (code) c.nativeCode = code;
  return applied;
}

/** Turn the host's result into the model's documented one for the entries judged. */
export function judgeResult(c: DiffCase, ids: VendorBehaviourId[], nat: CaseResult): { result: CaseResult; applied: VendorBehaviourId[] } {
  const applied: VendorBehaviourId[] = [];
  let result = nat;
  const insns = caseInsns(c);
  for (const id of ids) {
    const r = JUDGES[id].expect?.(c, insns, result);
    if (r) { result = r; applied.push(id); }
  }
  return { result, applied };
}

/** One line naming the model and the entries judged on this host. */
export function judgeSummary(vendor: Vendor | null, ids: VendorBehaviourId[]): string {
  return `host vendor ${vendor ?? 'unknown'}, model ${CPU_MODEL.vendorString}; judged against the model's documented result: ` +
    (ids.length ? ids.join(', ') : 'nothing');
}

