// A recording killed in the middle of a write leaves bytes after the last batch the manifest records: they are
// ignored, and readers serve the last sync point. A table cut inside a batch the manifest does record is damage:
// refused with a one-line message, or with allowPartial served up to the last sync point it still holds. Cut at
// every byte offset of the last batch, for compressed and uncompressed bodies, and inside the schema.
import { copyFileSync, cpSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RECORD_BYTES } from '../../src/trace/manifest.js';
import { TableBuffer } from '../../src/trace/table-buffer.js';
import { TraceReader } from '../../src/trace/trace-reader.js';
import { TraceWriter } from '../../src/trace/trace-writer.js';
import { fillRandom, rng, tempDir, testMeta } from './helpers.js';

const tmp = tempDir('itrace-trunc-');
afterAll(tmp.cleanup);

function open(dir: string, allowPartial = false): TraceReader {
  const r = TraceReader.open(dir, { allowPartial });
  if ('error' in r) throw new Error(r.error);
  return r;
}

for (const compress of [true, false]) {
  describe(`a table cut inside its last batch (${compress ? 'compressed' : 'uncompressed'})`, () => {
    const dir = join(tmp.dir, `src-${compress}`);
    const r = rng(11);
    const w = TraceWriter.create(dir, testMeta(), { compress });
    if ('error' in w) throw new Error(w.error);
    const events = new TableBuffer('events', 100);
    fillRandom(events, 20, r);
    w.writeBatch(events);
    w.sync(10);
    fillRandom(events, 17, r);
    w.writeBatch(events);
    w.sync(20);
    fillRandom(events, 25, r);
    w.writeBatch(events); // the batch that will be cut; the recording is never closed
    w.sync(30);
    const whole = open(dir).readTable('events').columns;
    const batches = open(dir).check.tables.find((t) => t.name === 'events')!.batches;
    const last = batches[2]!;

    it('bytes after the last recorded batch (a write the kill cut short) are ignored at every cut offset', () => {
      const cut = join(tmp.dir, `torn-${compress}`);
      cpSync(dir, cut, { recursive: true });
      const manifest = join(cut, 'manifest.bin');
      truncateSync(manifest, statSync(manifest).size - 2 * RECORD_BYTES); // the last batch's record and sync point never written
      const file = join(cut, 'events.arrows');
      for (let size = last.end; size >= last.offset; size--) {
        truncateSync(file, size);
        const rd = open(cut);
        expect(rd.check.damage).toEqual([]);
        expect(rd.complete).toBe(false);
        expect(rd.steps).toBe(20);
        expect(rd.table('events'), `cut at ${size}`).toMatchObject({ batches: 2, rows: 37, ended: false });
        const t = rd.readTable('events');
        expect(t.error).toBeUndefined();
        expect(t.columns.length).toBe(37);
        for (let i = 0; i < 37; i++) expect(t.columns.row(i)).toEqual(whole.row(i));
      }
    });

    it('a recorded batch cut at any offset is refused, and served up to the sync point before it with allowPartial', () => {
      const cut = join(tmp.dir, `cut-${compress}`);
      cpSync(dir, cut, { recursive: true });
      const file = join(cut, 'events.arrows');
      for (let size = last.end - 1; size >= last.offset; size--) {
        truncateSync(file, size);
        const refused = TraceReader.open(cut);
        expect(refused).toEqual({ error: expect.stringMatching(new RegExp(`^damaged trace: .*events.arrows: truncated at byte ${size} \\(batch 2 ends at byte ${last.end}\\); see trace fsck`)) });
        const rd = open(cut, true);
        expect(rd.steps).toBe(20);
        const t = rd.readTable('events');
        expect(t.error).toBeUndefined();
        expect(t.columns.length).toBe(37);
        for (let i = 0; i < 37; i++) expect(t.columns.row(i)).toEqual(whole.row(i));
      }
    });

    it('a file cut inside its schema is refused; allowPartial serves nothing', () => {
      const cut = join(tmp.dir, `schema-${compress}`);
      cpSync(dir, cut, { recursive: true });
      const file = join(cut, 'events.arrows');
      const schemaEnd = batches[0]!.offset;
      for (const size of [0, 1, 4, 7, 8, 9, schemaEnd - 1]) {
        copyFileSync(join(dir, 'events.arrows'), file);
        truncateSync(file, size);
        expect(TraceReader.open(cut)).toEqual({ error: expect.stringMatching(/events.arrows: truncated at byte \d+ \(schema ends/) });
        const rd = open(cut, true);
        expect(rd.steps).toBe(0);
        expect(rd.table('events')).toMatchObject({ rows: 0 });
        expect([...rd.stream('events')]).toEqual([]);
      }
    });
  });
}

describe('garbage after a closed table', () => {
  it('is damage: refused, the table marked corrupt', async () => {
    const dir = join(tmp.dir, 'garbage');
    const w = TraceWriter.create(dir, testMeta());
    if ('error' in w) throw new Error(w.error);
    const regs = new TableBuffer('regs', 10);
    fillRandom(regs, 10, rng(5));
    w.writeBatch(regs);
    w.close({});
    const { appendFileSync } = await import('node:fs');
    appendFileSync(join(dir, 'regs.arrows'), Buffer.from('this is not arrow at all'));
    expect(TraceReader.open(dir)).toEqual({ error: expect.stringMatching(/regs.arrows: corrupt: 24 bytes after the end of the stream/) });
    const rd = open(dir, true);
    expect(rd.table('regs').corrupt).toMatch(/24 bytes after the end of the stream/);
  });
});
