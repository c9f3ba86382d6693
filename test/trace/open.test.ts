// Opening and creating trace directories: the one-line errors of TraceReader.open (not a directory, no meta.json,
// corrupt meta.json, unsupported version), TraceWriter.create refusing a non-empty directory, and meta.json being
// replaced atomically (a new file renamed over the old one, never rewritten in place) and carries its checksum.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TRACE_VERSION } from '../../src/trace/schema.js';
import { sealJson, unsealJson } from '../../src/trace/sealed-json.js';
import { TraceReader } from '../../src/trace/trace-reader.js';
import { TraceWriter } from '../../src/trace/trace-writer.js';
import { tempDir, testMeta } from './helpers.js';

const tmp = tempDir('itrace-open-');
afterAll(tmp.cleanup);

function errorOf(r: unknown): string {
  expect(r).toHaveProperty('error');
  const e = (r as { error: string }).error;
  expect(e).not.toContain('\n');
  return e;
}

describe('TraceReader.open errors', () => {
  it('a missing path, a file, a directory without meta.json', () => {
    expect(errorOf(TraceReader.open(join(tmp.dir, 'missing')))).toMatch(/missing: no such directory$/);
    writeFileSync(join(tmp.dir, 'file'), 'x');
    expect(errorOf(TraceReader.open(join(tmp.dir, 'file')))).toMatch(/file is not a directory$/);
    mkdirSync(join(tmp.dir, 'empty'));
    expect(errorOf(TraceReader.open(join(tmp.dir, 'empty')))).toMatch(/empty is not a trace: no meta.json$/);
  });

  it('corrupt meta.json, and a version this build does not read', () => {
    const dir = join(tmp.dir, 'bad');
    mkdirSync(dir);
    for (const [text, want] of [
      ['{"version": 3, "compl', /meta.json: not JSON /],
      ['[1, 2]', /meta.json: not a JSON object$/],
      ['{"complete": true}', /meta.json: no checksum$/],
      [JSON.stringify(testMeta()), /meta.json: no checksum$/],
      [sealJson(testMeta()).replace('"complete": false', '"complete": true'), /meta.json: checksum mismatch$/],
      [sealJson({ version: TRACE_VERSION }), /meta.json: fields missing$/],
      [JSON.stringify({ ...testMeta(), version: TRACE_VERSION + 1 }), new RegExp(`trace format version ${TRACE_VERSION + 1} is not supported \\(this build reads version ${TRACE_VERSION}; record it again\\)$`)],
      [JSON.stringify({ ...testMeta(), version: 2 }), /trace format version 2 is not supported/],
    ] as const) {
      writeFileSync(join(dir, 'meta.json'), text);
      expect(errorOf(TraceReader.open(dir))).toMatch(want);
    }
  });

  it('a trace without manifest and table files is damaged: refused, or empty with allowPartial', () => {
    const dir = join(tmp.dir, 'meta-only');
    mkdirSync(dir);
    writeFileSync(join(dir, 'meta.json'), sealJson(testMeta()));
    expect(errorOf(TraceReader.open(dir))).toMatch(/^damaged trace: .*manifest.bin: missing \(and \d+ more problems\); see trace fsck/);
    const r = TraceReader.open(dir, { allowPartial: true });
    if ('error' in r) throw new Error(r.error);
    expect(r.table('insns')).toMatchObject({ present: false, rows: 0 });
    expect(r.readTable('insns').columns.length).toBe(0);
    expect(r.listCheckpoints()).toEqual([]);
  });
});

describe('TraceWriter.create', () => {
  it('refuses a non-empty directory and a file with an error value', () => {
    const dir = join(tmp.dir, 'full');
    mkdirSync(dir);
    writeFileSync(join(dir, 'keep.txt'), 'mine');
    expect(errorOf(TraceWriter.create(dir, testMeta()))).toMatch(/full is not empty/);
    expect(readdirSync(dir)).toEqual(['keep.txt']);
    writeFileSync(join(tmp.dir, 'afile'), '');
    expect(errorOf(TraceWriter.create(join(tmp.dir, 'afile'), testMeta()))).toMatch(/exists and is not a directory/);
  });

  it('accepts an existing empty directory and creates missing parents', () => {
    mkdirSync(join(tmp.dir, 'empty2'));
    expect(TraceWriter.create(join(tmp.dir, 'empty2'), testMeta())).toBeInstanceOf(TraceWriter);
    expect(TraceWriter.create(join(tmp.dir, 'a/b/c'), testMeta())).toBeInstanceOf(TraceWriter);
  });
});

describe('meta.json', () => {
  it('is written complete=false at once, then replaced by a renamed new file on close', () => {
    const dir = join(tmp.dir, 'atomic');
    const w = TraceWriter.create(dir, testMeta({ complete: true }));
    if ('error' in w) throw new Error(w.error);
    const path = join(dir, 'meta.json');
    const first = unsealJson(readFileSync(path, 'utf8'));
    expect(first).toEqual(testMeta({ complete: false }));
    const ino = statSync(path).ino;
    w.close({ steps: 5, exitStatus: 1 });
    expect(statSync(path).ino).not.toBe(ino); // rename of a new file, not a rewrite in place
    expect(unsealJson(readFileSync(path, 'utf8'))).toEqual(testMeta({ complete: true, steps: 5, exitStatus: 1 }));
    expect(existsSync(`${path}.tmp`)).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(['checkpoints', 'code.arrows', 'events.arrows', 'inputs.arrows', 'insns.arrows', 'manifest.bin', 'mem.arrows', 'meta.json', 'regs.arrows', 'symbols.json', 'syscalls.arrows']);
  });

  it('a temporary file left by a crash during close is ignored: the old meta.json is read', () => {
    const dir = join(tmp.dir, 'crash-in-close');
    const w = TraceWriter.create(dir, testMeta());
    if ('error' in w) throw new Error(w.error);
    writeFileSync(join(dir, 'meta.json.tmp'), '{"version": 1, "complete": tr');
    const r = TraceReader.open(dir);
    if ('error' in r) throw new Error(r.error);
    expect(r.complete).toBe(false);
  });
});
