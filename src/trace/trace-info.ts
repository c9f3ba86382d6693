// The facts `trace info` prints about a trace directory: its metadata, whether the recording finished, each table's
// rows, batches and size, and counts derived from the tables (user and kernel steps from insns.cpl, events by kind,
// system calls, page faults, checkpoints). Tables are streamed batch by batch, so memory stays bounded.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TableName, TraceMeta } from './schema.js';
import { TraceReader } from './trace-reader.js';
import { formatUnsupported } from '../guest/linux/unsupported.js';

/** One table's line. */
export interface TableSummary {
  /** Table name. */
  name: TableName;
  /** Rows readable. */
  rows: number;
  /** Complete record batches. */
  batches: number;
  /** File size in bytes. */
  bytes: number;
  /** True if the file ends inside a message (an interrupted recording). */
  truncated: boolean;
  /** Why some of it could not be read, if so. */
  error?: string;
}

/** Everything `trace info` reports. */
export interface TraceInfo {
  /** The trace directory. */
  dir: string;
  /** meta.json. */
  meta: TraceMeta;
  /** True if the recording ended normally. */
  complete: boolean;
  /** Steps readable (rows of insns). */
  steps: number;
  /** Steps at CPL 3. */
  userSteps: number;
  /** Steps at CPL 0. */
  kernelSteps: number;
  /** Row counts of events by kind. */
  eventsByKind: Record<string, number>;
  /** Rows of syscalls. */
  syscalls: number;
  /** Events of kind page_fault. */
  pageFaults: number;
  /** Checkpoint files. */
  checkpoints: number;
  /** Their total size in bytes. */
  checkpointBytes: number;
  /** Per table, in schema order. */
  tables: TableSummary[];
  /** Bytes of the whole directory (tables, checkpoints, meta.json). */
  bytes: number;
  /** bytes / steps, or null for a trace without steps. */
  bytesPerStep: number | null;
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Summarise a trace directory; a one-line error if it is not a readable trace. */
export function traceInfo(dir: string): TraceInfo | { error: string } {
  const rd = TraceReader.open(dir);
  if ('error' in rd) return rd;
  const tables: TableSummary[] = rd.tables().map((t) => {
    const s: TableSummary = { name: t.name, rows: t.rows, batches: t.batches, bytes: t.bytes, truncated: t.truncated };
    if (t.corrupt !== undefined) s.error = t.corrupt;
    return s;
  });
  const noteError = (name: TableName, error: string | undefined): void => {
    const s = tables.find((t) => t.name === name)!;
    if (error !== undefined && s.error === undefined) s.error = error;
  };

  let userSteps = 0, kernelSteps = 0;
  const insns = rd.stream('insns');
  for (const b of insns) {
    const cpl = b.ints('cpl');
    for (let i = 0; i < b.length; i++) {
      if (cpl[i] === 3) userSteps++;
      else if (cpl[i] === 0) kernelSteps++;
    }
  }
  noteError('insns', insns.error);

  const eventsByKind: Record<string, number> = {};
  const events = rd.stream('events');
  for (const b of events) for (const k of b.strings('kind')) eventsByKind[k] = (eventsByKind[k] ?? 0) + 1;
  noteError('events', events.error);

  const cps = rd.listCheckpoints();
  const checkpointBytes = cps.reduce((a, seq) => a + fileSize(join(dir, 'checkpoints', `${String(seq).padStart(12, '0')}.msgpack`)), 0);
  let bytes = checkpointBytes;
  for (const name of readdirSync(dir)) bytes += name === 'checkpoints' ? 0 : fileSize(join(dir, name));
  const steps = rd.table('insns').rows;
  return {
    dir, meta: rd.meta, complete: rd.complete, steps, userSteps, kernelSteps, eventsByKind,
    syscalls: rd.table('syscalls').rows, pageFaults: eventsByKind.page_fault ?? 0,
    checkpoints: cps.length, checkpointBytes, tables, bytes, bytesPerStep: steps > 0 ? bytes / steps : null,
  };
}

/** A byte count for people: 512 B, 1.5 KiB, 3.2 MiB. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024, u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${v.toFixed(1)} ${units[u]}`;
}

function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The human-readable report of `trace info`, one line per fact. */
export function formatTraceInfo(info: TraceInfo): string[] {
  const m = info.meta;
  const lines: string[] = [];
  const kv = (k: string, v: string): void => { lines.push(`${k.padEnd(12)}${v}`); };
  kv('trace', info.dir);
  kv('image', `${m.image}${m.imageSha256 ? ` (sha256 ${m.imageSha256})` : ''}`);
  kv('argv', m.argv.map(shellWord).join(' '));
  kv('env', m.env.length === 0 ? '(empty)' : m.env.map(shellWord).join(' '));
  if (m.root !== undefined) kv('root', m.root);
  kv('started', m.started);
  kv('version', `trace format ${m.version}, written by ${m.tool}`);
  if (info.complete) {
    kv('status', `complete${m.exitStatus !== undefined ? `, exit status ${m.exitStatus}` : ''}`);
  } else {
    kv('status', `incomplete: the recording was interrupted; ${info.steps} steps readable`);
  }
  kv('steps', `${info.steps} (user ${info.userSteps}, kernel ${info.kernelSteps})`);
  const kinds = Object.entries(info.eventsByKind).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  kv('events', kinds.length === 0 ? '0' : kinds.map(([k, n]) => `${k} ${n}`).join(', '));
  kv('syscalls', String(info.syscalls));
  if (m.unsupportedSyscalls !== undefined && m.unsupportedSyscalls.length > 0) kv('unsupported', formatUnsupported(m.unsupportedSyscalls));
  kv('page faults', String(info.pageFaults));
  kv('checkpoints', `${info.checkpoints} (${formatBytes(info.checkpointBytes)}${m.checkpointEvery ? `, every ${m.checkpointEvery} steps` : ''})`);
  kv('size', `${formatBytes(info.bytes)}${info.bytesPerStep === null ? '' : `, ${info.bytesPerStep.toFixed(2)} bytes/step`}`);
  lines.push('');
  lines.push(`${'table'.padEnd(10)}${'rows'.padStart(14)}${'batches'.padStart(9)}${'bytes'.padStart(12)}`);
  for (const t of info.tables) {
    const note = t.error !== undefined ? `  error: ${t.error}` : t.truncated ? '  (last batch cut off)' : '';
    lines.push(`${t.name.padEnd(10)}${String(t.rows).padStart(14)}${String(t.batches).padStart(9)}${formatBytes(t.bytes).padStart(12)}${note}`);
  }
  return lines;
}
