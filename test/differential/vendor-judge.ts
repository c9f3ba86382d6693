// Judging vendor-dependent cases: for every entry of the CPU model's vendor table
// (src/cpu/vendor-model.ts) where the host's processor does not compute what the model documents, the
// case is still run on the host, but either with its code rewritten into same-length instructions that
// every x86-64 processor executes as the model documents (hostCode), or with the host's result turned
// into the model's documented result (expect). Both rewrites are exact on any host, so they can also be
// forced on a host that would agree (ITRACE_DIFF_JUDGE=all), which is how the tests check them.
import { readFileSync } from 'node:fs';
import { Code, Decoder, DecoderOptions, Instruction, OpKind } from 'iced-x86';
import {
  CPU_MODEL, VENDOR_BEHAVIOUR_IDS, VENDOR_TABLE, Vendor, VendorBehaviourId, vendorOf,
} from '../../src/cpu/vendor-model.js';
import { CaseResult, CODE_BASE, DiffCase } from './harness.js';

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

