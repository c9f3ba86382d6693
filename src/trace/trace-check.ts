// The integrity of a trace directory, from its manifest: for every table the byte ranges its writer recorded
// (schema, batches, end marker) checked against the file (missing, truncated at byte N) and, when `deep`, their
// CRC-32 (corrupt batch K); the checkpoints, meta.json and symbols.json likewise; and the consistent prefix:
// the latest sync point whose rows every table still holds intact (the whole trace when it was closed normally
// and nothing is damaged). Readers serve that prefix only. Errors are values; nothing here throws for a bad trace.
import { closeSync, fstatSync, openSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { crc32 } from './crc32.js';
import { readAt } from './ipc-frames.js';
import { Kind, MANIFEST_FILE, ManifestRecord, readManifest } from './manifest.js';
import { readableVersion, TableName, TABLES, TRACE_VERSION, TraceMeta } from './schema.js';
import { unsealJson } from './sealed-json.js';
import { loadModules } from './modules-file.js';
import { loadProcesses } from './processes-file.js';
import { loadTraceSymbols } from './symbols.js';

/** A recorded byte range of a table file: the schema or a record batch. */
export interface RecordedFrame {
  /** First byte. */
  readonly offset: number;
  /** One past the last byte. */
  readonly end: number;
  /** Rows (0 for the schema). */
  readonly rows: number;
  /** CRC-32 of the bytes. */
  readonly crc: number;
}

/** Status of one table. */
export type TableStatus = 'ok' | 'unfinished' | 'missing' | 'truncated' | 'corrupt';

/** What the check found about one table. */
export interface TableCheck {
  /** The table. */
  readonly name: TableName;
  /** ok: intact and closed; unfinished: intact, not closed (an interrupted recording); else damaged. */
  readonly status: TableStatus;
  /** The status in a few words: ok, unfinished, missing, "truncated at byte 1234", "corrupt batch 3". */
  readonly summary: string;
  /** The problem as a one-line message naming the file, if damaged. */
  readonly problem?: string;
  /** File size in bytes (0 if missing). */
  readonly bytes: number;
  /** The schema message, if recorded and intact. */
  readonly schema: RecordedFrame | null;
  /** The record batches recorded and intact (as far as checked), in order. */
  readonly batches: readonly RecordedFrame[];
  /** Rows in those batches. */
  readonly rows: number;
  /** True if the end-of-stream marker is recorded and intact. */
  readonly ended: boolean;
  /** Steps [0, completeThrough) have all their rows in the intact part of the table. */
  readonly completeThrough: number;
  /** Rows readers serve: the table's part of the consistent prefix. */
  readonly prefixRows: number;
}

/** A checkpoint the manifest records. */
export interface CheckpointCheck {
  /** Step the snapshot was taken before. */
  readonly seq: number;
  /** File size recorded. */
  readonly bytes: number;
  /** CRC-32 recorded. */
  readonly crc: number;
  /** What is wrong with the file, if anything (missing, size, checksum). */
  readonly problem?: string;
}

/** Everything the check found. */
export interface TraceCheck {
  /** The trace directory. */
  readonly dir: string;
  /** meta.json. */
  readonly meta: TraceMeta;
  /** True if the CRCs of every recorded range were compared (else only sizes and the manifest itself). */
  readonly deep: boolean;
  /** Per table, in schema order. */
  readonly tables: readonly TableCheck[];
  /** Checkpoints the manifest records, ascending. */
  readonly checkpoints: readonly CheckpointCheck[];
  /** Steps of the consistent prefix: every table holds the rows of steps [0, steps) and readers serve only those. */
  readonly steps: number;
  /** True if the prefix is the whole recording (closed normally, nothing damaged). */
  readonly whole: boolean;
  /** One line per problem that makes the trace damaged (empty: intact; an interrupted recording is not damage). */
  readonly damage: readonly string[];
}

/** The version of meta.json's format, or a one-line error (not a trace, another format version, damaged). */
export function readMeta(dir: string): TraceMeta | { error: string } {
  const path = join(dir, 'meta.json');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return { error: `${dir} is not a trace: no meta.json` };
  }
  let version: unknown;
  try {
    version = (JSON.parse(text) as { version?: unknown }).version;
  } catch {
    version = undefined;
  }
  if (typeof version === 'number' && !readableVersion(version)) {
    return { error: `${dir}: trace format version ${version} is not supported (this build reads version ${TRACE_VERSION}; record it again)` };
  }
  const o = unsealJson(text);
  if ('error' in o) return { error: `${path}: ${o.error}` };
  if (!readableVersion(o.version)) return { error: `${path}: no format version` };
  if (typeof o.complete !== 'boolean' || !Array.isArray(o.argv) || !Array.isArray(o.env) || !Array.isArray(o.kernelSymbols)) {
    return { error: `${path}: fields missing` };
  }
  return o as unknown as TraceMeta;
}

/** CRC-32 of bytes [offset, end) of an open file; null if the file is shorter. */
function rangeCrc(fd: number, offset: number, end: number): number | null {
  const CHUNK = 1 << 22;
  let c = 0;
  for (let p = offset; p < end; p += CHUNK) {
    const b = readAt(fd, p, Math.min(CHUNK, end - p));
    if (b.length < Math.min(CHUNK, end - p)) return null;
    c = crc32(b, c);
  }
  return c;
}

interface TableRecords {
  schema: (ManifestRecord & { kind: Kind.SCHEMA }) | null;
  batches: (ManifestRecord & { kind: Kind.BATCH })[];
  end: (ManifestRecord & { kind: Kind.END }) | null;
  /** A manifest record out of order for this table, if one was. */
  disorder?: string;
}

function tableRecords(records: readonly ManifestRecord[]): TableRecords[] {
  const out: TableRecords[] = TABLES.map(() => ({ schema: null, batches: [], end: null }));
  for (const r of records) {
    if (r.kind !== Kind.SCHEMA && r.kind !== Kind.BATCH && r.kind !== Kind.END) continue;
    const t = out[r.table]!;
    if (t.disorder !== undefined) continue;
    const last = t.batches.length > 0 ? t.batches[t.batches.length - 1]! : t.schema;
    if (r.kind === Kind.SCHEMA) {
      if (t.schema !== null || r.offset !== 0) t.disorder = 'manifest: a second schema record';
      else t.schema = r;
    } else if (last === null || t.end !== null || r.offset !== last.end) {
      t.disorder = `manifest: a record out of order at byte ${r.offset}`;
    } else if (r.kind === Kind.BATCH) {
      if (r.index !== t.batches.length) t.disorder = `manifest: batch ${r.index} recorded as number ${t.batches.length}`;
      else t.batches.push(r);
    } else t.end = r;
  }
  return out;
}

/** Check one table's file against its records. */
function checkTable(dir: string, name: TableName, rec: TableRecords, complete: boolean, deep: boolean): Omit<TableCheck, 'completeThrough' | 'prefixRows'> {
  const path = join(dir, `${name}.arrows`);
  const base = { name, bytes: 0, schema: null, batches: [] as RecordedFrame[], rows: 0, ended: false };
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return { ...base, status: 'missing', summary: 'missing', problem: `${path}: missing` };
  }
  try {
    const size = fstatSync(fd).size;
    const frames: RecordedFrame[] = [];
    let rows = 0;
    let summary = '';
    const verify = (r: { offset: number; end: number; crc: number }, what: string): string | null => {
      if (r.end > size) { summary = `truncated at byte ${size}`; return `${path}: truncated at byte ${size} (${what} ends at byte ${r.end})`; }
      if (!deep) return null;
      const c = rangeCrc(fd, r.offset, r.end);
      if (c === r.crc) return null;
      summary = `corrupt ${what}`;
      return `${path}: corrupt ${what}: checksum mismatch`;
    };
    const stop = (problem: string): Omit<TableCheck, 'completeThrough' | 'prefixRows'> => ({
      ...base, bytes: size, schema: frames[0] ?? null, batches: frames.slice(1), rows,
      status: summary.startsWith('truncated') ? 'truncated' : 'corrupt', summary: summary || 'corrupt', problem,
    });
    if (rec.schema === null) return stop(`${path}: corrupt: no schema recorded in ${MANIFEST_FILE}`);
    const sp = verify(rec.schema, 'schema');
    if (sp !== null) return stop(sp);
    frames.push({ offset: rec.schema.offset, end: rec.schema.end, rows: 0, crc: rec.schema.crc });
    for (const b of rec.batches) {
      const p = verify(b, `batch ${b.index}`);
      if (p !== null) return stop(p);
      frames.push({ offset: b.offset, end: b.end, rows: b.rows, crc: b.crc });
      rows += b.rows;
    }
    if (rec.disorder !== undefined) return stop(`${path}: corrupt: ${rec.disorder}`);
    const result = { ...base, bytes: size, schema: frames[0]!, batches: frames.slice(1), rows };
    if (rec.end !== null) {
      const p = verify(rec.end, 'end-of-stream marker');
      if (p !== null) return stop(p);
      if (rec.end.rows !== rows) return stop(`${path}: corrupt: the end marker counts ${rec.end.rows} rows, the batches ${rows}`);
      if (size > rec.end.end) return stop(`${path}: corrupt: ${size - rec.end.end} bytes after the end of the stream`);
      return { ...result, ended: true, status: 'ok', summary: 'ok' };
    }
    if (complete) return stop(`${path}: corrupt: the trace was closed but the table's end marker is not recorded`);
    return { ...result, status: 'unfinished', summary: 'unfinished' };
  } finally {
    closeSync(fd);
  }
}

function checkCheckpoint(dir: string, r: { seq: number; bytes: number; crc: number }, deep: boolean): CheckpointCheck {
  const path = join(dir, 'checkpoints', `${String(r.seq).padStart(12, '0')}.msgpack`);
  let problem: string | undefined;
  try {
    const size = statSync(path).size;
    if (size !== r.bytes) problem = `${path}: ${size} bytes, ${r.bytes} recorded`;
    else if (deep && crc32(readFileSync(path)) !== r.crc) problem = `${path}: checksum mismatch`;
  } catch {
    problem = `${path}: missing`;
  }
  return problem === undefined ? { ...r } : { ...r, problem };
}

/** Checks done in this process, by directory and the size, time and inode of its files. */
const cache = new Map<string, TraceCheck>();

/**
 * Check a trace directory. `deep` compares every CRC (reads every byte); otherwise only the manifest, file sizes
 * and the JSON files are checked, and readers compare each batch's CRC when they read it. Results are cached per
 * process while no file of the trace changes size, time or inode; `fresh` forces a new check.
 */
export function checkTrace(dir: string, deep: boolean, fresh = false): TraceCheck | { error: string } {
  const files = ['meta.json', MANIFEST_FILE, 'symbols.json', 'modules.json', 'processes.json', ...TABLES.map((t) => `${t.name}.arrows`)].map((f) => {
    try {
      const st = statSync(join(dir, f));
      return `${st.size}:${st.mtimeMs}:${st.ino}`;
    } catch {
      return '-';
    }
  });
  const base = `${resolve(dir)}\0${files.join(',')}`;
  if (!fresh) {
    const hit = cache.get(`${base}\0true`) ?? (deep ? undefined : cache.get(`${base}\0false`));
    if (hit !== undefined) return hit;
  }
  const r = check(dir, deep);
  if (!('error' in r)) cache.set(`${base}\0${deep}`, r);
  return r;
}

function check(dir: string, deep: boolean): TraceCheck | { error: string } {
  try {
    if (!statSync(dir).isDirectory()) return { error: `${dir} is not a directory` };
  } catch {
    return { error: `${dir}: no such directory` };
  }
  const meta = readMeta(dir);
  if ('error' in meta) return meta;
  const damage: string[] = [];
  const manifest = readManifest(dir, TABLES.length);
  const records = manifest?.records ?? [];
  if (manifest === null) damage.push(`${join(dir, MANIFEST_FILE)}: missing`);
  else if (manifest.corruptRecord !== undefined) damage.push(`${join(dir, MANIFEST_FILE)}: corrupt record ${manifest.corruptRecord} (nothing after it is trusted)`);
  else if (manifest.tornBytes > 0 && meta.complete) damage.push(`${join(dir, MANIFEST_FILE)}: truncated at byte ${manifest.bytes}`);

  const recs = tableRecords(records);
  const checked = TABLES.map((t, k) => checkTable(dir, t.name, recs[k]!, meta.complete, deep));
  for (const t of checked) if (t.problem !== undefined) damage.push(t.problem);

  const checkpoints = records.filter((r): r is ManifestRecord & { kind: Kind.CHECKPOINT } => r.kind === Kind.CHECKPOINT)
    .map((r) => checkCheckpoint(dir, r, deep)).sort((a, b) => a.seq - b.seq);
  for (const c of checkpoints) if (c.problem !== undefined) damage.push(c.problem);

  const symbols = loadTraceSymbols(dir);
  if ('error' in symbols) damage.push(symbols.error);
  const modules = loadModules(dir);
  if ('error' in modules) damage.push(modules.error);
  const processes = loadProcesses(dir);
  if (processes !== undefined && 'error' in processes) damage.push(processes.error);

  // the consistent prefix: the whole trace if every table is closed and intact, else the latest sync point
  const syncs = records.filter((r): r is ManifestRecord & { kind: Kind.SYNC } => r.kind === Kind.SYNC);
  const fits = (s: { rows: readonly number[] }): boolean => checked.every((t, k) => s.rows[k]! <= t.rows);
  const allEnded = checked.every((t) => t.status === 'ok');
  const whole = meta.complete && allEnded && damage.length === 0;
  if (meta.complete && allEnded && meta.steps !== undefined && checked[0]!.rows !== meta.steps) {
    damage.push(`${join(dir, 'insns.arrows')}: ${checked[0]!.rows} rows, meta.json says ${meta.steps} steps`);
  }
  let steps = 0;
  let rows: readonly number[] = TABLES.map(() => 0);
  if (whole && damage.length === 0) {
    steps = meta.steps ?? checked[0]!.rows;
    rows = checked.map((t) => t.rows);
  } else {
    for (let i = syncs.length - 1; i >= 0; i--) {
      if (fits(syncs[i]!)) { steps = syncs[i]!.through; rows = syncs[i]!.rows; break; }
    }
  }
  const tables: TableCheck[] = checked.map((t, k) => {
    let through = 0;
    if (t.status === 'ok' && meta.complete) through = meta.steps ?? t.rows;
    else for (const s of syncs) if (s.rows[k]! <= t.rows) through = Math.max(through, s.through);
    return { ...t, completeThrough: through, prefixRows: rows[k]! };
  });
  return { dir, meta, deep, tables, checkpoints, steps, whole: whole && damage.length === 0, damage };
}
