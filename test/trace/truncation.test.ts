// A recording killed in the middle of a write leaves a table file that ends inside a message. Cut the last batch
// of a file at every byte offset: the trace still opens, every earlier batch reads back intact, the table says
// truncated, and nothing throws. The same for compressed and uncompressed bodies, and for a file cut inside its
// schema.
import { copyFileSync, cpSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scanStreamFile } from '../../src/trace/ipc-frames.js';
import { TableBuffer } from '../../src/trace/table-buffer.js';
import { TraceReader } from '../../src/trace/trace-reader.js';
import { TraceWriter } from '../../src/trace/trace-writer.js';
import { fillRandom, rng, tempDir, testMeta } from './helpers.js';

const tmp = tempDir('itrace-trunc-');
afterAll(tmp.cleanup);

function open(dir: string): TraceReader {
  const r = TraceReader.open(dir);
  if ('error' in r) throw new Error(r.error);
  return r;
}

for (const compress of [true, false]) {
  describe(`a table cut inside its last batch (${compress ? 'compressed' : 'uncompressed'})`, () => {
    const dir = join(tmp.dir, `src-${compress}`);
    const cut = join(tmp.dir, `cut-${compress}`);
    const r = rng(11);
    const w = TraceWriter.create(dir, testMeta(), { compress });
    if ('error' in w) throw new Error(w.error);
    const events = new TableBuffer('events', 100);
    const all = [...fillRandom(events, 20, r)];
    w.writeBatch(events);
    all.push(...fillRandom(events, 17, r));
    w.writeBatch(events);
    fillRandom(events, 25, r);
    w.writeBatch(events); // the batch that will be cut; the recording is never closed

    it('opens at every cut offset and yields exactly the complete batches', () => {
      const scan = scanStreamFile(join(dir, 'events.arrows'))!;
      expect(scan.batches.length).toBe(3);
      const last = scan.batches[2]!;
      expect(last.end).toBe(scan.bytes);
      cpSync(dir, cut, { recursive: true });
      const file = join(cut, 'events.arrows');
      const whole = open(dir).readTable('events').columns;
      for (let size = last.end - 1; size >= last.offset; size--) {
        truncateSync(file, size);
        const rd = open(cut);
        expect(rd.complete).toBe(false);
        const info = rd.table('events');
        expect(info, `cut at ${size}`).toMatchObject({ batches: 2, rows: 37, truncated: size > last.offset, ended: false });
        const t = rd.readTable('events');
        expect(t.error).toBeUndefined();
        expect(t.truncated).toBe(size > last.offset);
        expect(t.columns.length).toBe(37);
        for (let i = 0; i < 37; i++) expect(t.columns.row(i)).toEqual(whole.row(i));
      }
      expect(statSync(file).size).toBe(last.offset);
    });

    it('a file cut inside its schema reads as an empty, truncated table', () => {
      const file = join(cut, 'events.arrows');
      const schemaEnd = scanStreamFile(join(dir, 'events.arrows'))!.schema!.end;
      for (const size of [0, 1, 4, 7, 8, 9, schemaEnd - 1, schemaEnd]) {
        copyFileSync(join(dir, 'events.arrows'), file);
        truncateSync(file, size);
        const rd = open(cut);
        expect(rd.table('events'), `cut at ${size}`).toMatchObject({ rows: 0, batches: 0, truncated: size > 0 && size < schemaEnd });
        const t = rd.readTable('events');
        expect(t.columns.length).toBe(0);
        expect(t.error).toBeUndefined();
        expect([...rd.stream('events')]).toEqual([]);
      }
    });
  });
}

describe('garbage after a complete batch', () => {
  it('stops at the first message that is not one, reports it, keeps the rows before it', async () => {
    const dir = join(tmp.dir, 'garbage');
    const w = TraceWriter.create(dir, testMeta());
    if ('error' in w) throw new Error(w.error);
    const regs = new TableBuffer('regs', 10);
    fillRandom(regs, 10, rng(5));
    w.writeBatch(regs);
    const { appendFileSync } = await import('node:fs');
    appendFileSync(join(dir, 'regs.arrows'), Buffer.from('this is not arrow at all'));
    const rd = open(dir);
    const info = rd.table('regs');
    expect(info).toMatchObject({ rows: 10, batches: 1 });
    expect(info.corrupt).toMatch(/no message marker/);
    const t = rd.readTable('regs');
    expect(t.columns.length).toBe(10);
    expect(t.error).toMatch(/no message marker/);
  });
});
