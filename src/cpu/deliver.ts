// Event delivery in IA-32e mode (SDM vol. 3A 6.14): IDT gate lookup, stack switch from TSS.RSP0 or an IST
// slot, the 64-bit interrupt frame (SS, RSP, RFLAGS, CS, RIP, error code), and IRETQ's inverse.
import type { Cpu } from './cpu.js';
import { Fault, hasErrorCode, Vector } from './fault.js';
import { getFlags, setFlags } from './flags.js';
import { Access } from './mmu.js';
import { Fl, Off, Seg } from './state.js';

const R = (off: number): number => off >> 2;

/** Read a 64-bit value at a linear address with supervisor privilege (implicit system access). */
function sysRead64(c: Cpu, lo: number, hi: number): [number, number] {
  const p = c.translateAt(lo, hi, Access.READ, 0);
  if ((p & 0xfff) > 0xff8) {
    const n = (lo + 4) >>> 0;
    const p2 = c.translateAt(n, n < lo ? (hi + 1) >>> 0 : hi, Access.READ, 0);
    return [c.dv.getUint32(p, true), c.dv.getUint32(p2, true)];
  }
  return [c.dv.getUint32(p, true), c.dv.getUint32(p + 4, true)];
}

/** Push a 64-bit value on the stack being built (with the privilege of the new CPL). */
function push64(c: Cpu, sp: { lo: number; hi: number }, cpl: number, vlo: number, vhi: number): void {
  const lo = (sp.lo - 8) >>> 0;
  const hi = sp.lo < 8 ? (sp.hi - 1) >>> 0 : sp.hi;
  const p = c.translateAt(lo, hi, Access.WRITE, cpl);
  if ((p & 0xfff) > 0xff8) throw new Fault(Vector.GP, 0, 0, 0, 'interrupt frame slot crosses a page'); // 16-byte aligned stacks never do
  c.mlog?.access(lo, hi, 8, 1, vlo, vhi, c.dv.getUint32(p, true), c.dv.getUint32(p + 4, true));
  c.notifyPhysWrite(p, 8);
  c.dv.setUint32(p, vlo, true); c.dv.setUint32(p + 4, vhi, true);
  sp.lo = lo; sp.hi = hi;
}

/**
 * Deliver an interrupt or exception through the IDT. `software` is true for INT n/INT3/INTO (DPL check,
 * RIP already after the instruction). Throws Fault if delivery itself faults.
 */
export function deliverEvent(c: Cpu, vector: number, errorCode: number | undefined, software: boolean): void {
  const r = c.r;
  // error code naming the IDT entry: IDT bit (1), and EXT (0) unless INT n/INT3/INTO raised the event (SDM 6.13)
  const idtErr = vector * 8 + 2 + (software ? 0 : 1);
  const idtLimit = r[R(Off.IDTR_LIMIT)]!;
  if (vector * 16 + 15 > idtLimit) throw new Fault(Vector.GP, idtErr);
  const baseLo = r[R(Off.IDTR_BASE)]!, baseHi = r[R(Off.IDTR_BASE) + 1]!;
  const gLo = (baseLo + vector * 16) >>> 0, gHi = gLo < baseLo ? (baseHi + 1) >>> 0 : baseHi;
  const [w0, w1] = sysRead64(c, gLo, gHi);
  const g2Lo = (gLo + 8) >>> 0;
  const [w2] = sysRead64(c, g2Lo, g2Lo < gLo ? (gHi + 1) >>> 0 : gHi);
  const type = (w1 >>> 8) & 0xf, dpl = (w1 >>> 13) & 3, present = (w1 >>> 15) & 1;
  if (type !== 0xe && type !== 0xf) throw new Fault(Vector.GP, idtErr);
  const cpl = c.cpl;
  if (software && dpl < cpl) throw new Fault(Vector.GP, idtErr);
  if (!present) throw new Fault(Vector.NP, idtErr);
  const selector = w0 >>> 16;
  const ist = w1 & 7;
  const targetLo = ((w0 & 0xffff) | (w1 & 0xffff0000)) >>> 0, targetHi = w2;
  const newCpl = selector & 3;
  // stack selection
  let spLo = r[R(Off.GPR) + 8]!, spHi = r[R(Off.GPR) + 9]!;
  const oldSpLo = spLo, oldSpHi = spHi;
  const oldSs = r[R(Off.SEL) + Seg.SS]!;
  const trLo = r[R(Off.TR_BASE)]!, trHi = r[R(Off.TR_BASE) + 1]!;
  if (ist !== 0) {
    const a = (trLo + 0x24 + (ist - 1) * 8) >>> 0;
    [spLo, spHi] = sysRead64(c, a, trHi);
  } else if (newCpl < cpl) {
    [spLo, spHi] = sysRead64(c, (trLo + 4) >>> 0, trHi);
  }
  spLo = (spLo & ~0xf) >>> 0; // 64-bit mode aligns the new stack to 16 bytes
  const sp = { lo: spLo, hi: spHi };
  const flags = getFlags(r);
  const ripLo = r[R(Off.RIP)]!, ripHi = r[R(Off.RIP) + 1]!;
  push64(c, sp, newCpl, oldSs, 0);
  push64(c, sp, newCpl, oldSpLo, oldSpHi);
  push64(c, sp, newCpl, flags, 0);
  push64(c, sp, newCpl, r[R(Off.SEL) + Seg.CS]!, 0);
  push64(c, sp, newCpl, ripLo, ripHi);
  if (errorCode !== undefined) push64(c, sp, newCpl, errorCode >>> 0, 0);
  // commit
  r[R(Off.GPR) + 8] = sp.lo; r[R(Off.GPR) + 9] = sp.hi;
  if (newCpl !== cpl) r[R(Off.SEL) + Seg.SS] = newCpl;
  r[R(Off.SEL) + Seg.CS] = selector;
  let nf = flags & ~(Fl.TF | Fl.NT | Fl.RF | Fl.VM);
  if (type === 0xe) nf &= ~Fl.IF;
  setFlags(r, nf);
  r[R(Off.RIP)] = targetLo; r[R(Off.RIP) + 1] = targetHi;
  r[R(Off.HALTED)] = 0;
  c.setCpl(newCpl);
}

/** Deliver an exception raised by an instruction; escalates to #DF and reports a triple fault as false. */
export function deliverException(c: Cpu, f: Fault): boolean {
  const r = c.r;
  if (f.vector === Vector.PF) { r[R(Off.CR2)] = f.cr2Lo; r[R(Off.CR2) + 1] = f.cr2Hi; }
  try {
    deliverEvent(c, f.vector, hasErrorCode(f.vector) ? f.errorCode : undefined, false);
    return true;
  } catch (e) {
    if (!(e instanceof Fault)) throw e;
    // CR2 is updated whenever a #PF is detected, even one that escalates to #DF (SDM 6.15, interrupt 14)
    if (e.vector === Vector.PF) { r[R(Off.CR2)] = e.cr2Lo; r[R(Off.CR2) + 1] = e.cr2Hi; }
    if (f.vector === Vector.DF) return false;
    // SDM table 6-5: #DF only for contributory+contributory, #PF+contributory and #PF+#PF
    const contributory = (v: number): boolean => v === Vector.DE || (v >= Vector.TS && v <= Vector.GP);
    const first = f.vector, second = e.vector;
    const df = (contributory(first) && contributory(second)) || (first === Vector.PF && (second === Vector.PF || contributory(second)));
    if (!df) return deliverException(c, e);
    return deliverException(c, new Fault(Vector.DF, 0));
  }
}

/** IRETQ (64-bit operand size) from CPL 0: pop RIP, CS, RFLAGS, RSP, SS. */
export function iretq(c: Cpu): void {
  const r = c.r;
  const spLo = r[R(Off.GPR) + 8]!, spHi = r[R(Off.GPR) + 9]!;
  const at = (k: number): [number, number] => {
    const lo = (spLo + 8 * k) >>> 0;
    const v = c.rd64(lo, lo < spLo ? (spHi + 1) >>> 0 : spHi);
    return [v, c.hi];
  };
  const [ripLo, ripHi] = at(0);
  const [cs] = at(1);
  const [fl] = at(2);
  const [rspLo, rspHi] = at(3);
  const [ss] = at(4);
  const newCpl = cs & 3;
  const cpl = c.cpl;
  if (newCpl < cpl) throw new Fault(Vector.GP, cs & 0xfffc);
  const top = ripHi >>> 15;
  if (top !== 0 && top !== 0x1ffff) throw new Fault(Vector.GP, 0);
  let mask = Fl.OSZAPC | Fl.TF | Fl.DF | Fl.NT | Fl.RF | Fl.AC | Fl.ID;
  const cur = getFlags(r);
  if (cpl === 0) mask |= Fl.IOPL | Fl.VIF | Fl.VIP;
  if (cpl <= ((cur >>> 12) & 3)) mask |= Fl.IF; // IF changes only when CPL <= IOPL
  setFlags(r, (cur & ~mask) | (fl & mask));
  r[R(Off.RIP)] = ripLo; r[R(Off.RIP) + 1] = ripHi;
  r[R(Off.SEL) + Seg.CS] = cs & 0xffff;
  r[R(Off.SEL) + Seg.SS] = ss & 0xffff;
  r[R(Off.GPR) + 8] = rspLo; r[R(Off.GPR) + 9] = rspHi;
  c.setCpl(newCpl);
}
