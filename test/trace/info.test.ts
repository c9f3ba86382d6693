// `trace info`'s facts (the library function the command prints): metadata, completeness, per-table rows, batches
// and bytes, user/kernel steps, events by kind, system calls, page faults, checkpoints, bytes per step; on a
// complete trace, on an interrupted one (the consistent prefix of its last sync point), and on damaged ones (a table
// cut inside a recorded batch, a flipped byte).
import { appendFileSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TableBuffer } from '../../src/trace/table-buffer.js';
import { formatTraceInfo, traceInfo, TraceInfo } from '../../src/trace/trace-info.js';
import { TraceWriter } from '../../src/trace/trace-writer.js';
import { tempDir, testMeta } from './helpers.js';

const tmp = tempDir('itrace-info-');
afterAll(tmp.cleanup);

/**
 * A small trace: `steps` steps, every 10th in the kernel, 500 steps per batch with a sync point after each full one;
 * a few events and syscalls (all before step 500, written first).
 */
function record(dir: string, steps: number, close: boolean): void {
  const w = TraceWriter.create(dir, testMeta());
  if ('error' in w) throw new Error(w.error);
  w.writeCheckpoint(0, new Uint8Array(64), new Map([[1, new Uint8Array(4096)]]), {});
  const events = new TableBuffer('events', 16);
  for (const [seq, kind] of [[9, 'syscall'], [19, 'sysret'], [29, 'page_fault'], [39, 'page_fault'], [49, 'syscall']] as const) {
    events.push([seq, kind, kind === 'page_fault' ? 14 : -1, 0, kind === 'page_fault' ? 0x1000 : 0, 3, 0, 0x401000, 0xffff800000001000n]);
  }
  w.writeBatch(events);
  const sys = new TableBuffer('syscalls', 4);
  sys.push([9, 19, 1, 'write', 1, 0x4020, 5, 0, 0, 0, 5]);
  sys.push([49, -1, 60, 'exit', 0, 0, 0, 0, 0, 0, 0]);
  w.writeBatch(sys);
  const insns = new TableBuffer('insns', 500);
  for (let s = 0; s < steps; s++) {
    insns.push([s, 0x401000 + 3 * s, s % 10 === 9 ? 0 : 3, 3, s % 7, 0]);
    if (insns.full) { w.writeBatch(insns); w.sync(s + 1); }
  }
  w.writeBatch(insns);
  w.writeCheckpoint(1000, new Uint8Array(64), new Map([[1, new Uint8Array(4096).fill(1)]]), {});
  if (close) w.close({ steps, exitStatus: 0 });
}

function info(dir: string): TraceInfo {
  const i = traceInfo(dir);
  if ('error' in i) throw new Error(i.error);
  return i;
}

describe('traceInfo', () => {
  it('a complete trace', () => {
    const dir = join(tmp.dir, 'complete');
    record(dir, 1234, true);
    const i = info(dir);
    expect(i).toMatchObject({
      complete: true, steps: 1234, userSteps: 1234 - 123, kernelSteps: 123, syscalls: 2, pageFaults: 2, checkpoints: 2,
      eventsByKind: { syscall: 2, sysret: 1, page_fault: 2 },
    });
    expect(i.meta).toMatchObject({ image: 'guests/bin/hello-musl', argv: ['hello-musl', 'x y'], env: ['A=1'], exitStatus: 0 });
    expect(i.tables.map((t) => [t.name, t.rows, t.batches, t.lastCompleteSeq, t.status])).toEqual([
      ['insns', 1234, 3, 1233, 'ok'], ['code', 0, 0, 1233, 'ok'], ['regs', 0, 0, 1233, 'ok'], ['mem', 0, 0, 1233, 'ok'],
      ['events', 5, 1, 1233, 'ok'], ['syscalls', 2, 1, 1233, 'ok'], ['inputs', 0, 0, 1233, 'ok'],
    ]);
    expect(i.usable).toEqual({ state: 'complete', steps: 1234, problems: [] });
    expect(i.tables[0]!.bytes).toBe(statSync(join(dir, 'insns.arrows')).size);
    expect(i.bytes).toBeGreaterThan(i.tables.reduce((a, t) => a + t.bytes, 0) + i.checkpointBytes);
    expect(i.bytesPerStep).toBeCloseTo(i.bytes / 1234);
    const text = formatTraceInfo(i).join('\n');
    expect(text).toContain('status      complete, exit status 0');
    expect(text).toContain('steps       1234 (user 1111, kernel 123)');
    expect(text).toContain('events      page_fault 2, syscall 2, sysret 1');
    expect(text).toContain("argv        hello-musl 'x y'");
    expect(text).toMatch(/^insns +1234 +3 /m);
  });

  it('an interrupted trace: incomplete, the consistent prefix, a torn write ignored', () => {
    const dir = join(tmp.dir, 'killed');
    record(dir, 1234, false);
    appendFileSync(join(dir, 'insns.arrows'), Buffer.alloc(77, 0xff)); // a write the kill cut short: not recorded
    const i = info(dir);
    // the last sync point is after step 999: the 234 rows written after it are not served
    expect(i).toMatchObject({ complete: false, steps: 1000, userSteps: 900, kernelSteps: 100 });
    expect(i.usable).toEqual({ state: 'prefix', steps: 1000, problems: [] });
    expect(i.tables[0]).toMatchObject({ name: 'insns', rows: 1000, rowsInFile: 1234, batches: 3, lastCompleteSeq: 999, status: 'unfinished' });
    const text = formatTraceInfo(i).join('\n');
    expect(text).toContain('status      incomplete: the recording was interrupted; commands use the consistent prefix, steps 0..999');
    expect(text).toMatch(/^insns +1000 \(\+234\) +3 .* 999 {2}unfinished$/m);
  });

  it('a table cut inside a recorded batch: damaged, truncated at byte N, the prefix before it', () => {
    const dir = join(tmp.dir, 'cut');
    record(dir, 1234, true);
    const file = join(dir, 'insns.arrows');
    const size = statSync(file).size;
    truncateSync(file, size - 300);
    const i = info(dir);
    expect(i.usable.state).toBe('damaged');
    expect(i.usable.steps).toBe(1000);
    expect(i.usable.problems[0]).toMatch(new RegExp(`insns.arrows: truncated at byte ${size - 300} \\(batch 2 ends at byte \\d+\\)$`));
    expect(i.tables[0]).toMatchObject({ rows: 1000, status: `truncated at byte ${size - 300}`, lastCompleteSeq: 999 });
    expect(formatTraceInfo(i).join('\n')).toContain('status      damaged: commands refuse it; with --allow-partial they use the consistent prefix, steps 0..999');
  });

  it('a flipped byte: corrupt batch K', () => {
    const dir = join(tmp.dir, 'flip');
    record(dir, 1234, true);
    const file = join(dir, 'insns.arrows');
    const b = readFileSync(file);
    b[b.length - 400] = b[b.length - 400]! ^ 0x20;
    writeFileSync(file, b);
    const i = info(dir);
    expect(i.usable).toMatchObject({ state: 'damaged', steps: 1000 });
    expect(i.tables[0]!.status).toBe('corrupt batch 2');
    expect(i.usable.problems).toEqual([expect.stringMatching(/insns.arrows: corrupt batch 2: checksum mismatch$/)]);
  });

  it('errors are one-line values', () => {
    expect(traceInfo(join(tmp.dir, 'nothing-here'))).toEqual({ error: expect.stringMatching(/no such directory$/) });
  });
});
