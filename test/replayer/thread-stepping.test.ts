// Per-thread stepping on a recording of several processes (forkexec-musl: the parent blocks in read() and
// waitpid() while its children run): step-over of a call in one thread lands after the call although another
// thread ran in between; reverse step-out in a thread lands on its own CALL; step-in skips other threads' steps.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { record } from '../../src/recorder/record.js';
import { Kind } from '../../src/replayer/step-index.js';
import { StepSession } from '../../src/replayer/step-session.js';
import { withCapturedIo } from '../helpers/run-both.js';
import { SLOW_TEST_MS } from '../helpers/slow-machine.js';

const tmp = mkdtempSync(join(tmpdir(), 'itrace-thread-step-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('stepping within one thread', () => {
  let s: StepSession;
  beforeAll(() => {
    const out = join(tmp, 'forkexec'), image = join(process.cwd(), 'guests/bin/forkexec-musl');
    withCapturedIo('/', undefined, (io) => {
      const r = record({ image, args: [], root: '/', out, stdout: io.stdout, stderr: io.stderr, background: false });
      if ('error' in r) throw new Error(r.error);
      return {};
    });
    const o = StepSession.open(out, { snapshotEvery: 4096 });
    if ('error' in o) throw new Error(o.error);
    s = o;
  }, SLOW_TEST_MS);

  const len = (seq: number): bigint => BigInt(s.index.codeBytes[s.index.code(seq)]!.length);
  const tid = (seq: number): number => s.index.threads.tidAt(seq);

  /** User-mode CALLs of the parent (tid 1000) during which another thread ran, outermost first. */
  function callsSpanningOthers(): [number, number][] {
    const out: [number, number][] = [];
    const ix = s.index;
    for (let k = 0; k < ix.callSeq.length; k++) {
      const c = ix.callSeq[k]!, r = ix.callRet[k]!;
      if (ix.callCpl[k] !== 3 || ix.callTid[k] !== 1000 || r === 0xffffffff) continue;
      if (ix.threads.runAt(c) !== ix.threads.runAt(r)) out.push([c, r]);
    }
    return out;
  }

  it('step-over of a call in the parent lands after the call, though the children ran in between', () => {
    const calls = callsSpanningOthers();
    expect(calls.length).toBeGreaterThan(0);
    for (const [call] of calls.slice(0, 3)) {
      expect(s.index.kind(call) & Kind.CALL).toBeTruthy();
      s.goto(call);
      const r = s.move({ motion: 'over' });
      if ('error' in r) throw new Error(r.error);
      const land = r.landings[0]!.seq;
      expect(tid(land)).toBe(1000);
      expect(s.index.cplAt(land)).toBe(3);
      expect(s.index.rip(land)).toBe(s.index.rip(call) + len(call));
      // some other thread's steps lie between the call and the landing
      let other = false;
      for (let q = call; q < land && !other; q++) other = tid(q) !== 1000;
      expect(other).toBe(true);
    }
  });

  it('reverse step-out from inside the callee after the switch lands on the parent\'s own CALL', () => {
    const [call, ret] = callsSpanningOthers()[0]!;
    // the parent's last user-mode step inside the call: the step before its return
    let inside = ret - 1;
    while (tid(inside) !== 1000 || s.index.cplAt(inside) !== 3) inside--;
    expect(inside).toBeGreaterThan(call);
    s.goto(inside);
    const r = s.move({ motion: 'out', back: true });
    if ('error' in r) throw new Error(r.error);
    const land = r.landings[0]!.seq;
    expect(tid(land)).toBe(1000);
    expect(s.index.kind(land) & Kind.CALL).toBeTruthy();
    expect(land).toBe(call);
  });

  it('step-in at the end of a run goes on in the same thread', () => {
    const runs = s.index.threads;
    const j = Array.from(runs.runTid).findIndex((t, i) => i > 0 && runs.runTid[i - 1] === 1000 && t !== 1000);
    expect(j).toBeGreaterThan(0);
    const last = runs.runSeq[j]! - 1; // the parent's last step before the switch
    s.goto(last);
    const r = s.move({ motion: 'in' });
    if ('error' in r) throw new Error(r.error);
    const land = r.landings[0]!.seq;
    expect(tid(land)).toBe(1000);
    expect(land).toBeGreaterThan(runs.runSeq[j]!);
    // and back
    const b = s.move({ motion: 'in', back: true });
    if ('error' in b) throw new Error(b.error);
    expect(b.landings[0]!.seq).toBe(last);
  });
});
