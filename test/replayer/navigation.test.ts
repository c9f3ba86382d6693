// Navigation semantics on recorded sample guests: step in/over/out in both directions across calls (recursive
// merge_sort), system calls, page faults and REP MOVSB, breakpoints, watchpoints and the ends of the trace.
import { beforeAll, describe, expect, it } from 'vitest';
import { Off } from '../../src/cpu/state.js';
import { Kind } from '../../src/replayer/step-index.js';
import { StepSession } from '../../src/replayer/step-session.js';
import { disassemble } from '../../src/trace/disassemble.js';
import { recordSample } from './recordings.js';

function open(dir: string): StepSession {
  const s = StepSession.open(dir, { snapshotEvery: 1024 });
  if ('error' in s) throw new Error(s.error);
  return s;
}

const rsp = (s: StepSession): bigint => { const u = s.state.delta.state.u32; return (BigInt(u[(Off.GPR >> 2) + 9]!) << 32n) | BigInt(u[(Off.GPR >> 2) + 8]!); };
const text = (s: StepSession, seq: number): string => { const c = s.index.code(seq); return disassemble(s.index.rip(seq), s.index.codeBytes[c]!).text; };
const len = (s: StepSession, seq: number): bigint => BigInt(s.index.codeBytes[s.index.code(seq)]!.length);
/** All steps executing rip (ascending). */
function stepsAt(s: StepSession, rip: bigint): number[] {
  const out: number[] = [];
  for (const c of s.index.codesAt(rip)) for (let k = s.index.byCodeOff[c]!; k < s.index.byCodeOff[c + 1]!; k++) out.push(s.index.byCode.get(k));
  return out.sort((a, b) => a - b);
}
function firstOfKind(s: StepSession, kind: number, from = 0, cpl = 3): number {
  for (let k = from; k < s.index.steps; k++) if ((s.index.kind(k) & kind) && s.index.cplAt(k) === cpl && !s.index.faulted(k)) return k;
  throw new Error('not found');
}

describe('trace step on compute-musl 60', () => {
  let s: StepSession;
  beforeAll(() => { s = open(recordSample('compute-musl', ['60']).dir); });

  it('steps over a recursive merge_sort call to its matching return, and back to the CALL', () => {
    const ms = s.symbols.byName('merge_sort')[0]!.address;
    const entries = stepsAt(s, ms);
    expect(entries.length).toBeGreaterThan(10);
    // the first (outermost) call into merge_sort: the step before its first instruction
    const call = entries[0]! - 1;
    expect(s.index.kind(call) & Kind.CALL).toBeTruthy();
    s.goto(call);
    const before = rsp(s);
    const ret = s.index.rip(call) + len(s, call);
    const r = s.move({ motion: 'over' });
    if ('error' in r) throw new Error(r.error);
    const land = r.landings[0]!.seq;
    expect(s.index.rip(land)).toBe(ret);
    expect(rsp(s)).toBe(before);
    // the recursive activations inside all lie between the CALL and the landing
    const inner = entries.filter((e) => e > call && e < land);
    expect(inner.length).toBeGreaterThan(5);
    // an inner recursive call: step over lands at ITS return, not the outer one
    const innerCall = inner[1]! - 1;
    s.goto(innerCall);
    const innerBefore = rsp(s);
    const r2 = s.move({ motion: 'over' });
    if ('error' in r2) throw new Error(r2.error);
    expect(r2.landings[0]!.seq).toBeLessThan(land);
    expect(rsp(s)).toBe(innerBefore);
    // reverse step-over from the return point: back to the CALL; reverse step-in: into the callee's RET
    s.goto(land);
    const b = s.move({ motion: 'over', back: true });
    if ('error' in b) throw new Error(b.error);
    expect(b.landings[0]!.seq).toBe(call);
    s.goto(land);
    s.move({ motion: 'in', back: true });
    expect(s.index.kind(s.position) & Kind.RET).toBeTruthy();
    // step-out from inside the outer activation (after an inner call returned) lands at the same return; reverse step-out at the CALL
    s.goto(r2.landings[0]!.seq);
    const o = s.move({ motion: 'out' });
    if ('error' in o) throw new Error(o.error);
    expect(o.landings[0]!.seq).toBeLessThanOrEqual(land);
    s.goto(inner[0]! + 1);
    const out = s.move({ motion: 'out' });
    if ('error' in out) throw new Error(out.error);
    s.goto(inner[0]! + 1);
    const ob = s.move({ motion: 'out', back: true });
    if ('error' in ob) throw new Error(ob.error);
    expect(ob.landings[0]!.seq).toBe(inner[0]! - 1);
    expect(s.index.rip(out.landings[0]!.seq)).toBe(s.index.rip(inner[0]! - 1) + len(s, inner[0]! - 1));
  });

  it('crosses a system call with step in/over/out in both directions', () => {
    const sc = firstOfKind(s, Kind.SYSCALL, 1000);
    expect(text(s, sc)).toBe('syscall');
    const after = s.index.rip(sc) + 2n;
    // step in: the kernel's entry
    s.goto(sc);
    s.move({ motion: 'in' });
    expect(s.index.cplAt(s.position)).toBe(0);
    expect(s.symbols.describe(s.index.rip(s.position))).toBe('entry_SYSCALL_64');
    // step out of the kernel: ring 3 at the instruction after SYSCALL; back out: the SYSCALL
    const inKernel = s.position + 3;
    s.goto(inKernel);
    s.move({ motion: 'out' });
    const back = s.position;
    expect(s.index.cplAt(back)).toBe(3);
    expect(s.index.rip(back)).toBe(after);
    s.goto(inKernel);
    s.move({ motion: 'out', back: true });
    expect(s.position).toBe(sc);
    // step over: the same landing; reverse step over: the SYSCALL again; reverse step in: SYSRETQ
    s.goto(sc);
    s.move({ motion: 'over' });
    expect(s.position).toBe(back);
    s.move({ motion: 'over', back: true });
    expect(s.position).toBe(sc);
    s.goto(back);
    s.move({ motion: 'in', back: true });
    expect(s.index.kind(s.position) & Kind.SYSRET).toBeTruthy();
    expect(s.index.cplAt(s.position)).toBe(0);
    // the kernel's VMCALL step is on the way
    let vm = false;
    for (let k = sc; k < back; k++) if (s.index.kind(k) & Kind.VMCALL) vm = true;
    expect(vm).toBe(true);
  });

  it('crosses a page fault with step in and step over', () => {
    const f = [...s.index.faults].find((k) => s.index.cplAt(k) === 3 && s.index.code(k) !== 0xffffffff)!;
    expect(f).toBeDefined();
    s.goto(f);
    s.move({ motion: 'in' });
    expect(s.position).toBe(f + 1);
    expect(s.index.cplAt(s.position)).toBe(0);
    expect(s.symbols.describe(s.index.rip(s.position))).toBe('asm_exc_page_fault');
    s.goto(f);
    s.move({ motion: 'over' });
    const again = s.position;
    expect(s.index.cplAt(again)).toBe(3);
    expect(s.index.rip(again)).toBe(s.index.rip(f));
    expect(s.index.faulted(again)).toBe(false);
    expect(s.index.kind(again - 1) & Kind.IRET).toBeTruthy();
    s.move({ motion: 'over', back: true });
    expect(s.position).toBe(f);
    // step out of the fault handler: the re-executed instruction
    s.goto(f + 2);
    s.move({ motion: 'out' });
    expect(s.position).toBe(again);
    s.goto(f + 2);
    s.move({ motion: 'out', back: true });
    expect(s.position).toBe(f);
  });

  it('runs to breakpoints and watchpoints in both directions', () => {
    const ms = s.symbols.byName('merge_sort')[0]!.address;
    const entries = stepsAt(s, ms);
    s.goto(0);
    let r = s.move({ to: 'merge_sort' });
    if ('error' in r) throw new Error(r.error);
    expect(s.position).toBe(entries[0]);
    r = s.move({ to: 'merge_sort', count: 3 });
    if ('error' in r) throw new Error(r.error);
    expect(r.landings.map((l) => l.seq)).toEqual(entries.slice(1, 4));
    r = s.move({ to: `0x${ms.toString(16)}`, back: true });
    if ('error' in r) throw new Error(r.error);
    expect(s.position).toBe(entries[2]);
    // a stack slot: the PUSH that wrote it is found backwards, and the next write forwards
    const at = entries[5]! + 1; // after merge_sort's first instruction... find a push below
    s.goto(at);
    const slot = rsp(s);
    r = s.move({ write: `0x${slot.toString(16)}:8`, back: true });
    if ('error' in r) throw new Error(r.error);
    const w = s.position;
    expect(r.landings[0]!.wrote).toBe(w);
    // the writer's mem rows say so: replay state after it holds the value it wrote, and no write in between
    const before = s.state.read(slot, 8);
    s.goto(w + 1);
    const after = s.state.read(slot, 8);
    s.goto(at);
    expect(s.state.read(slot, 8)).toEqual(after);
    expect(before).toBeDefined();
    r = s.move({ write: `0x${slot.toString(16)}:8` });
    if ('error' in r) throw new Error(r.error);
    expect(s.position).toBeGreaterThan(at);
    // nothing at an unused address: the end of the trace, reported
    r = s.move({ write: '0x10:8' });
    if ('error' in r) throw new Error(r.error);
    expect(r.landings.at(-1)!.end).toBe('end');
    expect(r.note).toMatch(/end of the trace/);
    // errors are values
    expect(s.move({ to: 'no_such_symbol' })).toEqual({ error: 'unknown symbol no_such_symbol' });
  });

  it('reports both ends of the trace', () => {
    s.goto(0);
    const b = s.move({ motion: 'in', back: true });
    if ('error' in b) throw new Error(b.error);
    expect(b.landings[0]).toEqual({ seq: 0, end: 'start' });
    expect(b.note).toMatch(/start of the trace/);
    for (const motion of ['in', 'over', 'out'] as const) {
      s.goto(s.index.steps - 1);
      const f = s.move({ motion });
      if ('error' in f) throw new Error(f.error);
      expect(f.landings[0]).toEqual({ seq: s.index.steps - 1, end: 'end' });
    }
    s.goto(s.index.steps - 5);
    const many = s.move({ motion: 'in', count: 100 });
    if ('error' in many) throw new Error(many.error);
    expect(many.landings.length).toBe(5);
    expect(many.landings.at(-1)!.end).toBe('end');
    expect(s.goto(s.index.steps)).toEqual({ error: expect.stringMatching(/steps 0\.\./) });
  });
});

describe('trace step on rep-musl (REP MOVSB with page faults in the middle)', () => {
  let s: StepSession;
  beforeAll(() => { s = open(recordSample('rep-musl', ['6000']).dir); });

  it('steps each REP MOVSB iteration and steps over the whole instruction', () => {
    let first = -1;
    for (let k = 0; k < s.index.steps; k++) if (s.index.cplAt(k) === 3 && (s.index.kind(k) & Kind.REP) && text(s, k).startsWith('rep movsb')) { first = k; break; }
    expect(first).toBeGreaterThan(0);
    const rip = s.index.rip(first);
    s.goto(first);
    const rcx0 = s.state.delta.state.u32[(Off.GPR >> 2) + 2]!;
    expect(rcx0).toBe(6000);
    // step in: one iteration, same instruction, RCX one less
    s.move({ motion: 'in' });
    expect(s.index.rip(s.position)).toBe(rip);
    expect(s.state.delta.state.u32[(Off.GPR >> 2) + 2]).toBe(5999);
    // step over from an iteration in the middle: past every remaining iteration, through the page faults
    s.goto(first + 10);
    s.move({ motion: 'over' });
    const next = s.position;
    expect(s.index.rip(next)).toBe(rip + len(s, first));
    expect(s.index.cplAt(next)).toBe(3);
    expect(s.state.delta.state.u32[(Off.GPR >> 2) + 2]).toBe(0);
    let faults = 0, iters = 0;
    for (let k = first; k < next; k++) { if (s.index.faulted(k)) faults++; if (s.index.rip(k) === rip && !s.index.faulted(k)) iters++; }
    expect(faults).toBeGreaterThan(0);
    expect(iters).toBe(6000);
    // reverse step over: back to the first iteration
    s.move({ motion: 'over', back: true });
    expect(s.position).toBe(first);
  });
});
