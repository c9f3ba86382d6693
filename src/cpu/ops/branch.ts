// Near control transfers: JMP, Jcc, CALL, RET, LOOP/LOOPE/LOOPNE, JRCXZ/JECXZ. Operand size is always 64
// bits in 64-bit mode (iced decodes the 66-prefixed forms as the 64-bit ones on Intel). A non-canonical
// target raises #GP(0) at the branch, before anything (the return-address push included) changes.
import { Code } from 'iced-x86';
import type { Cpu, Exec } from '../cpu.js';
import { Decoded } from '../decoded.js';
import { gp } from '../fault.js';
import { getZF, testCondition } from '../flags.js';
import { isCanonical } from '../mmu.js';
import { reader64 } from '../operands.js';
import { Off } from '../state.js';
import type { OpMap } from '../table.js';
import { addRsp, peek64, push64 } from './stack.js';

const RIP = Off.RIP >> 2;

/** A handler raising #GP(0) for a branch whose (constant) target is non-canonical. */
function badTarget(): Exec {
  return () => gp(0, 'non-canonical branch target');
}

function setRip(c: Cpu, lo: number, hi: number): void {
  c.r[RIP] = lo; c.r[RIP + 1] = hi;
}

// ---- JMP / Jcc ------------------------------------------------------------------------------------

function jmpRel(d: Decoded): Exec {
  const lo = d.targetLo, hi = d.targetHi;
  if (!isCanonical(hi)) return badTarget();
  return (c) => { c.r[RIP] = lo; c.r[RIP + 1] = hi; };
}

function jcc(d: Decoded): Exec {
  const lo = d.targetLo, hi = d.targetHi, cc = d.cc;
  const ok = isCanonical(hi);
  return (c) => {
    if (!testCondition(c.r, cc)) return;
    if (!ok) gp(0, 'non-canonical branch target');
    c.r[RIP] = lo; c.r[RIP + 1] = hi;
  };
}

function jmpIndirect(d: Decoded): Exec {
  const rd = reader64(d, 0);
  return (c) => {
    const lo = rd(c), hi = c.hi;
    if (!isCanonical(hi)) gp(0, 'non-canonical branch target');
    setRip(c, lo, hi);
  };
}

// ---- CALL / RET -----------------------------------------------------------------------------------

function callRel(d: Decoded): Exec {
  const lo = d.targetLo, hi = d.targetHi, rlo = d.nextLo, rhi = d.nextHi;
  if (!isCanonical(hi)) return badTarget();
  return (c) => { push64(c, rlo, rhi); c.r[RIP] = lo; c.r[RIP + 1] = hi; };
}

function callIndirect(d: Decoded): Exec {
  const rd = reader64(d, 0), rlo = d.nextLo, rhi = d.nextHi;
  return (c) => {
    const lo = rd(c), hi = c.hi; // read with the RSP before the push
    if (!isCanonical(hi)) gp(0, 'non-canonical branch target');
    push64(c, rlo, rhi);
    setRip(c, lo, hi);
  };
}

/** RET / RET imm16: pop RIP, then release imm16 more bytes. */
function ret(d: Decoded): Exec {
  const extra = 8 + (d.opCount > 0 ? d.immLo & 0xffff : 0);
  return (c) => {
    const lo = peek64(c), hi = c.hi;
    if (!isCanonical(hi)) gp(0, 'non-canonical return address');
    addRsp(c, extra);
    setRip(c, lo, hi);
  };
}

// ---- LOOP / JRCXZ ---------------------------------------------------------------------------------

/** LOOP/LOOPE/LOOPNE with RCX (or ECX under a 0x67 prefix); `z`: 0 plain, 1 LOOPE, 2 LOOPNE. */
function loop(z: number, ecx: boolean): (d: Decoded) => Exec {
  return (d) => {
    const lo = d.targetLo, hi = d.targetHi, ok = isCanonical(hi);
    return (c) => {
      const r = c.r;
      let cl = r[2]!, ch = r[3]!;
      if (ecx) { cl = (cl - 1) >>> 0; ch = 0; } else { if (cl === 0) ch = (ch - 1) >>> 0; cl = (cl - 1) >>> 0; }
      let take = (cl | ch) !== 0;
      if (take && z !== 0) take = (getZF(r) === 1) === (z === 1);
      if (take && !ok) gp(0, 'non-canonical branch target');
      r[2] = cl; r[3] = ch;
      if (take) setRip(c, lo, hi);
    };
  };
}

function jrcxz(ecx: boolean): (d: Decoded) => Exec {
  return (d) => {
    const lo = d.targetLo, hi = d.targetHi, ok = isCanonical(hi);
    return (c) => {
      const r = c.r;
      if (r[2] !== 0 || (!ecx && r[3] !== 0)) return;
      if (!ok) gp(0, 'non-canonical branch target');
      setRip(c, lo, hi);
    };
  };
}

const JCC: readonly string[] = ['Jo', 'Jno', 'Jb', 'Jae', 'Je', 'Jne', 'Jbe', 'Ja', 'Js', 'Jns', 'Jp', 'Jnp', 'Jl', 'Jge', 'Jle', 'Jg'];
const codes = Code as unknown as Record<string, number>;

/** branch family handlers keyed by iced Code. */
export const branchOps: OpMap = {
  [Code.Jmp_rel8_64]: jmpRel, [Code.Jmp_rel32_64]: jmpRel, [Code.Jmp_rm64]: jmpIndirect,
  [Code.Call_rel32_64]: callRel, [Code.Call_rm64]: callIndirect,
  [Code.Retnq]: ret, [Code.Retnq_imm16]: ret,
  [Code.Loop_rel8_64_RCX]: loop(0, false), [Code.Loope_rel8_64_RCX]: loop(1, false), [Code.Loopne_rel8_64_RCX]: loop(2, false),
  [Code.Loop_rel8_64_ECX]: loop(0, true), [Code.Loope_rel8_64_ECX]: loop(1, true), [Code.Loopne_rel8_64_ECX]: loop(2, true),
  [Code.Jrcxz_rel8_64]: jrcxz(false), [Code.Jecxz_rel8_64]: jrcxz(true),
  ...Object.fromEntries(JCC.flatMap((m) => [[codes[`${m}_rel8_64`]!, jcc], [codes[`${m}_rel32_64`]!, jcc]])),
};
