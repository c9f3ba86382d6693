// `trace fsck`: check everything of a trace — every checksum (trace-check.ts with deep), then the rows of the
// consistent prefix against each other: insns.seq is the row number, insns.code names a code row, and the seq of
// every regs, mem, events, syscalls and inputs row is ordered and inside the prefix; every checkpoint in it decodes.
// Repair cuts every table back to that prefix by writing the trace again from what readers serve, after moving
// the original files into TRACE/backup-<time>/.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { loadModules, writeModules } from './modules-file.js';
import { loadProcesses, writeProcesses } from './processes-file.js';
import { collectSymbols, loadTraceSymbols, writeSymbols } from './symbols.js';
import { TableName, TABLES, TraceMeta } from './schema.js';
import { TableBuffer } from './table-buffer.js';
import { TableColumns } from './table-columns.js';
import { checkTrace } from './trace-check.js';
import { TraceReader } from './trace-reader.js';
import { TraceWriter } from './trace-writer.js';

/** What fsck found (and did). */
export interface FsckResult {
  /** The trace directory. */
  dir: string;
  /** intact: closed normally, nothing wrong; interrupted: intact but not closed (a prefix is served); damaged. */
  state: 'intact' | 'interrupted' | 'damaged';
  /** Steps of the consistent prefix (all of them when intact). */
  steps: number;
  /** Steps the recording reached according to meta.json, when it was closed. */
  recordedSteps: number | null;
  /** Per table: status and last complete seq. */
  tables: { name: TableName; status: string; rows: number; prefixRows: number; lastCompleteSeq: number }[];
  /** Every problem found, one line each (checksums, sizes, rows inconsistent with insns). */
  problems: string[];
  /** Set by --repair: where the original files went and how many steps the repaired trace has. */
  repaired?: { backup: string; steps: number; symbolsRebuilt: boolean };
}

/** Rows of the consistent prefix checked against each other; one line per problem (at most a few per table). */
function consistency(reader: TraceReader): string[] {
  const out: string[] = [];
  const steps = reader.steps;
  const codeRows = reader.table('code').rows;
  const note = (name: TableName, msg: string): void => { out.push(`${join(reader.dir, `${name}.arrows`)}: ${msg}`); };
  const seqOf = (w: Uint32Array, i: number): number => w[2 * i]! + w[2 * i + 1]! * 4294967296;
  const scan = (name: TableName, each: (b: TableColumns, row: number) => string | null): void => {
    const s = reader.stream(name);
    let row = 0;
    for (const b of s) {
      for (let i = 0; i < b.length; i++, row++) {
        const p = each(b, i);
        if (p !== null) { note(name, `row ${row}: ${p}`); return; }
      }
    }
    if (s.error !== undefined) out.push(s.error);
  };
  let n = 0;
  scan('insns', (b, i) => {
    const seq = seqOf(b.words('seq'), i), code = b.ints('code')[i]!;
    if (seq !== n++) return `seq ${seq}, expected ${n - 1}`;
    if (code !== 0xffffffff && code >= codeRows) return `code ${code}, but the code table has ${codeRows} rows`;
    return null;
  });
  let codeId = 0;
  scan('code', (b, i) => (b.ints('id')[i] !== codeId++ ? `id ${b.ints('id')[i]}, expected ${codeId - 1}` : null));
  for (const name of ['regs', 'mem', 'events', 'inputs', 'syscalls'] as const) {
    const col = name === 'syscalls' ? 'entry_seq' : 'seq';
    let last = 0;
    scan(name, (b, i) => {
      const seq = seqOf(b.words(col), i);
      if (seq < last) return `${col} ${seq} after ${last} (out of order)`;
      last = seq;
      if (seq >= Math.max(steps, 1)) return `${col} ${seq} is past the last step of insns (${steps - 1})`;
      if (name === 'syscalls') {
        const ret = b.i64('return_seq')[i]!;
        if (ret >= BigInt(steps) || ret < -1n || (ret >= 0n && ret < BigInt(seq))) return `return_seq ${ret} outside steps ${seq}..${steps - 1}`;
      }
      return null;
    });
  }
  for (const seq of reader.listCheckpoints()) {
    const cp = reader.readCheckpoint(seq);
    if ('error' in cp) out.push(cp.error);
    else if (cp.seq !== seq) out.push(`checkpoint file of step ${seq} holds step ${cp.seq}`);
  }
  return out;
}

/** Check a trace; a one-line error if it is not one (or its meta.json is unreadable). */
export function fsck(dir: string): FsckResult | { error: string } {
  const c = checkTrace(dir, true, true);
  if ('error' in c) return c;
  const reader = TraceReader.open(dir, { allowPartial: true });
  if ('error' in reader) return reader;
  const problems = [...c.damage, ...consistency(reader)];
  return {
    dir, state: problems.length > 0 ? 'damaged' : c.whole ? 'intact' : 'interrupted', steps: c.steps,
    recordedSteps: c.meta.complete ? c.meta.steps ?? null : null,
    tables: c.tables.map((t) => ({ name: t.name, status: t.summary, rows: t.rows, prefixRows: t.prefixRows, lastCompleteSeq: t.completeThrough - 1 })),
    problems,
  };
}

/** A copy of a batch's columns in fresh, aligned memory (the writer delta-codes and hands them to Arrow). */
function bufferOf(name: TableName, b: TableColumns): TableBuffer {
  return TableBuffer.over(name, b.length, b.cols.map((s) => (Array.isArray(s) ? s.slice() : s.slice())));
}

/** The symbols to write into a repaired trace: the intact file's, else rebuilt from the image if it is unchanged. */
function repairSymbols(dir: string, meta: TraceMeta): { symbols: ReturnType<typeof collectSymbols>; rebuilt: boolean } {
  const s = loadTraceSymbols(dir);
  if (!('error' in s)) return { symbols: s, rebuilt: false };
  try {
    const image = readFileSync(meta.image);
    if (createHash('sha256').update(image).digest('hex') !== meta.imageSha256) return { symbols: [], rebuilt: false };
    const kernel = meta.kernelSymbols.map((k) => ({ name: k.name, address: BigInt(`0x${k.address}`), size: k.size }));
    return { symbols: collectSymbols(image, BigInt(`0x${meta.loadBias}`), kernel), rebuilt: true };
  } catch {
    return { symbols: [], rebuilt: false };
  }
}

/** The name of a new backup folder inside the trace. */
function backupName(dir: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  let name = `backup-${stamp}`;
  for (let k = 2; existsSync(join(dir, name)); k++) name = `backup-${stamp}-${k}`;
  return name;
}

/**
 * Cut every table back to the consistent prefix: write the prefix as a new trace (closed, with its checkpoints and
 * symbols), move every original file into TRACE/backup-<time>/ and the new files into place. Errors are values.
 */
export function repairTrace(dir: string, found: FsckResult): FsckResult | { error: string } {
  const c = checkTrace(dir, true);
  if ('error' in c) return c;
  const reader = TraceReader.open(dir, { allowPartial: true });
  if ('error' in reader) return reader;
  if (c.steps === 0) return { error: `${dir}: no step is complete in every table: nothing to keep` };
  if (reader.listCheckpoints()[0] !== 0) return { error: `${dir}: checkpoint 0 is damaged: the trace cannot be replayed, nothing to keep` };
  const tmp = join(dir, `.repair-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  const meta = c.meta;
  const w = TraceWriter.create(tmp, { ...meta, complete: false });
  if ('error' in w) return w;
  try {
    for (const t of TABLES) {
      const s = reader.stream(t.name);
      for (const b of s) if (b.length > 0) w.writeBatch(bufferOf(t.name, b));
      if (s.error !== undefined) throw new Error(s.error);
    }
    for (const seq of reader.listCheckpoints()) {
      const cp = reader.readCheckpoint(seq);
      if ('error' in cp) throw new Error(cp.error);
      w.writeCheckpoint(seq, cp.state, new Map([...cp.pages].map(([f, p]) => [f, p.slice()])), cp.extra);
    }
    const sym = repairSymbols(dir, meta);
    writeSymbols(tmp, sym.symbols);
    const modules = loadModules(dir); // a damaged modules.json is dropped (the trace reads as having no modules)
    if (!('error' in modules) && modules.length > 0) writeModules(tmp, modules);
    const processes = loadProcesses(dir); // a damaged processes.json is dropped (the trace reads as one thread)
    if (processes !== undefined && !('error' in processes)) writeProcesses(tmp, processes);
    const was = found.state === 'damaged' ? 'damaged' : meta.stopped ?? 'interrupted';
    const whole = meta.complete && meta.steps === c.steps;
    w.close({
      complete: true, steps: c.steps, exitStatus: whole ? meta.exitStatus : undefined,
      stopped: `cut to step ${c.steps} by trace fsck --repair (${was})`,
    });
    // swap: the originals (and any cached index) into the backup, the repaired files into place
    const backup = backupName(dir);
    mkdirSync(join(dir, backup));
    for (const name of readdirSync(dir)) {
      if (name === backup || name === `.repair-${process.pid}` || name.startsWith('backup-')) continue;
      renameSync(join(dir, name), join(dir, backup, name));
    }
    for (const name of readdirSync(tmp)) renameSync(join(tmp, name), join(dir, name));
    rmSync(tmp, { recursive: true, force: true });
    const after = fsck(dir);
    if ('error' in after) return after;
    return { ...after, repaired: { backup: join(dir, backup), steps: c.steps, symbolsRebuilt: sym.rebuilt } };
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    return { error: `repairing ${dir}: ${(e as Error).message}` };
  }
}

/** The human-readable report of fsck. */
export function formatFsck(r: FsckResult): string[] {
  const lines: string[] = [];
  const range = r.steps > 0 ? `steps 0..${r.steps - 1}` : 'no steps';
  if (r.repaired !== undefined) lines.push(`repaired: every table cut to ${r.repaired.steps} steps; the original files are in ${r.repaired.backup}${r.repaired.symbolsRebuilt ? ' (symbols rebuilt from the image)' : ''}`);
  if (r.state === 'intact') lines.push(`${r.dir}: intact, ${r.steps} steps`);
  else if (r.state === 'interrupted') lines.push(`${r.dir}: an interrupted recording, intact; commands use its consistent prefix, ${range} (--repair closes it there)`);
  else lines.push(`${r.dir}: damaged; its consistent prefix is ${range} (--allow-partial uses it; --repair cuts every table there, keeping a backup)`);
  for (const p of r.problems) lines.push(`  ${p}`);
  lines.push('');
  lines.push(`${'table'.padEnd(10)}${'rows'.padStart(12)}${'in prefix'.padStart(12)}${'last complete seq'.padStart(19)}  status`);
  for (const t of r.tables) lines.push(`${t.name.padEnd(10)}${String(t.rows).padStart(12)}${String(t.prefixRows).padStart(12)}${String(t.lastCompleteSeq).padStart(19)}  ${t.status}`);
  return lines;
}
