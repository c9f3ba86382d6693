// The facts `trace info` prints about a trace directory: its metadata, whether the recording finished, each table's
// rows, batches, size, last complete step and integrity status (every checksum is compared), whether the trace as a
// whole is usable, and counts derived from the consistent prefix (user and kernel steps from insns.cpl, events by
// kind, system calls, page faults, checkpoints). Tables are streamed batch by batch, so memory stays bounded.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TableName, TraceMeta, traceCpuLevel } from './schema.js';
import { cpuLevelName } from '../cpu/cpu-level.js';
import { checkTrace } from './trace-check.js';
import { TraceReader } from './trace-reader.js';
import { formatUnsupported } from '../guest/linux/unsupported.js';

/** One table's line. */
export interface TableSummary {
  /** Table name. */
  name: TableName;
  /** Rows served (the table's part of the consistent prefix). */
  rows: number;
  /** Rows intact in the file (more than `rows` when the table runs past the prefix). */
  rowsInFile: number;
  /** Record batches intact in the file. */
  batches: number;
  /** File size in bytes. */
  bytes: number;
  /** Last step whose rows the table holds completely (-1: none). */
  lastCompleteSeq: number;
  /** ok, unfinished (not closed: an interrupted recording), missing, "truncated at byte N", "corrupt batch K". */
  status: string;
  /** The problem as a one-line message naming the file, if the table is damaged (or could not be read). */
  error?: string;
}

/** Whether the trace can be used, in one word plus why. */
export interface Usability {
  /** complete: the whole recording; prefix: an interrupted recording, its consistent prefix is served;
   * damaged: refused unless --allow-partial (which serves `steps`); unusable: nothing to serve. */
  state: 'complete' | 'prefix' | 'damaged' | 'unusable';
  /** Steps served (by default for complete and prefix, with --allow-partial for damaged). */
  steps: number;
  /** The problems found, one line each (empty unless damaged). */
  problems: string[];
}

/** Everything `trace info` reports. */
export interface TraceInfo {
  /** The trace directory. */
  dir: string;
  /** meta.json. */
  meta: TraceMeta;
  /** True if the recording ended normally and is intact. */
  complete: boolean;
  /** Whether the trace is usable as a whole. */
  usable: Usability;
  /** Steps of the consistent prefix (the steps commands use). */
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
  const deep = checkTrace(dir, true);
  if ('error' in deep) return deep;
  const rd = TraceReader.open(dir, { allowPartial: true });
  if ('error' in rd) return rd;
  const c = rd.check;
  const tables: TableSummary[] = c.tables.map((t) => {
    const s: TableSummary = {
      name: t.name, rows: t.prefixRows, rowsInFile: t.rows, batches: t.batches.length, bytes: t.bytes,
      lastCompleteSeq: t.completeThrough - 1, status: t.summary,
    };
    if (t.problem !== undefined) s.error = t.problem;
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

  const cps = c.checkpoints.map((x) => x.seq);
  const checkpointBytes = cps.reduce((a, seq) => a + fileSize(join(dir, 'checkpoints', `${String(seq).padStart(12, '0')}.msgpack`)), 0);
  let bytes = checkpointBytes;
  for (const name of readdirSync(dir)) bytes += name === 'checkpoints' ? 0 : fileSize(join(dir, name));
  const steps = rd.steps;
  const problems = [...c.damage];
  for (const t of tables) if (t.error !== undefined && !problems.includes(t.error)) problems.push(t.error);
  const usable: Usability = {
    state: problems.length > 0 ? (steps > 0 ? 'damaged' : 'unusable') : c.whole ? 'complete' : steps > 0 ? 'prefix' : 'unusable',
    steps, problems,
  };
  return {
    dir, meta: rd.meta, complete: rd.complete, usable, steps, userSteps, kernelSteps, eventsByKind,
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
  kv('cpu', `${cpuLevelName(traceCpuLevel(m))}${m.cpu === undefined ? ' (not recorded: the default)' : ''}`);
  kv('started', m.started);
  kv('version', `trace format ${m.version}, written by ${m.tool}`);
  const u = info.usable;
  if (u.state === 'complete') {
    kv('status', `complete${m.exitStatus !== undefined ? `, exit status ${m.exitStatus}` : ''}${m.stopped !== undefined ? ` (${m.stopped})` : ''}`);
  } else if (u.state === 'prefix') {
    kv('status', `incomplete${m.stopped !== undefined ? ` (${m.stopped})` : ': the recording was interrupted'}; commands use the consistent prefix, steps 0..${u.steps - 1}`);
  } else if (u.state === 'damaged') {
    kv('status', `damaged: commands refuse it; with --allow-partial they use the consistent prefix, steps 0..${u.steps - 1}`);
  } else {
    kv('status', `unusable: ${u.problems.length > 0 ? 'damaged, ' : ''}no step is complete in every table`);
  }
  for (const p of u.problems) kv('problem', p);
  kv('steps', `${info.steps} (user ${info.userSteps}, kernel ${info.kernelSteps})`);
  const kinds = Object.entries(info.eventsByKind).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  kv('events', kinds.length === 0 ? '0' : kinds.map(([k, n]) => `${k} ${n}`).join(', '));
  kv('syscalls', String(info.syscalls));
  if (m.unsupportedSyscalls !== undefined && m.unsupportedSyscalls.length > 0) kv('unsupported', formatUnsupported(m.unsupportedSyscalls));
  kv('page faults', String(info.pageFaults));
  kv('checkpoints', `${info.checkpoints} (${formatBytes(info.checkpointBytes)}${m.checkpointEvery ? `, every ${m.checkpointEvery} steps` : ''})`);
  kv('size', `${formatBytes(info.bytes)}${info.bytesPerStep === null ? '' : `, ${info.bytesPerStep.toFixed(2)} bytes/step`}`);
  lines.push('');
  lines.push(`${'table'.padEnd(10)}${'rows'.padStart(14)}${'batches'.padStart(9)}${'bytes'.padStart(12)}${'last complete seq'.padStart(19)}  status`);
  for (const t of info.tables) {
    const rows = t.rowsInFile > t.rows ? `${t.rows} (+${t.rowsInFile - t.rows})` : String(t.rows);
    lines.push(`${t.name.padEnd(10)}${rows.padStart(14)}${String(t.batches).padStart(9)}${formatBytes(t.bytes).padStart(12)}${String(t.lastCompleteSeq).padStart(19)}  ${t.status}`);
  }
  return lines;
}
