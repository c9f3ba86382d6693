// Builds the DuckDB index of a trace: every table of the trace copied into one DuckDB file, plus the derived
// tables (disassembled code rows, call tree, page faults with handler steps, system calls with kernel steps) and
// views. The per-step tables stream through byte-copying table functions, three at once, while the call tree is
// collected from the same batches; the file is written beside the trace under a temporary name and renamed into
// place, so a reader never sees half an index.
import { renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  BIGINT, BLOB, BOOLEAN, DuckDBConnection, DuckDBInstance, DuckDBValue, SMALLINT, UBIGINT, UINTEGER, UTINYINT, VARCHAR, blobValue,
} from '@duckdb/node-api';
import { appendColumns } from './append-columns.js';
import { cacheKey, INDEX_FILE, INDEX_VERSION } from './cache-key.js';
import { BRANCH_CALL, BRANCH_RET, buildCallTree, CallTree } from './call-tree.js';
import { ARG_REGISTERS, CallCollector, valueAfter } from './call-collector.js';
import { registerColumnScan, ScanBatch, ScanColumn } from './column-scan.js';
import { derivedSql } from './index-sql.js';
import { BULK_TABLES } from './index-tables.js';
import { disassemble } from '../trace/disassemble.js';
import { REGISTERS } from '../trace/registers.js';
import { readTraceSymbols } from '../trace/symbols.js';
import { TableColumns } from '../trace/table-columns.js';
import { TraceReader } from '../trace/trace-reader.js';

/** Called as rows are copied: rows done of rows in total. */
export type IndexProgress = (done: number, total: number) => void;

/** What a build did. */
export interface IndexBuild {
  /** Path of the index file. */
  readonly path: string;
  /** Rows copied from the trace tables. */
  readonly rows: number;
  /** Frames in the call tree. */
  readonly calls: number;
  /** Wall time of the whole build, seconds. */
  readonly seconds: number;
  /** Wall time of copying the per-step tables (steps, regs, mem), seconds. */
  readonly copySeconds: number;
}

/** Options of buildIndex. */
export interface BuildOptions {
  /** Progress callback (called often: throttle printing). */
  readonly progress?: IndexProgress;
  /** Where to write the index (default `<trace>/query.duckdb`). */
  readonly path?: string;
}

const u64 = (w: Uint32Array | ArrayLike<number>, i: number): bigint => (BigInt(w[2 * i + 1]!) << 32n) | BigInt(w[2 * i]!);

/** Build (or rebuild) the index of a trace; errors are values. */
export async function buildIndex(dir: string, opts: BuildOptions = {}): Promise<IndexBuild | { error: string }> {
  const t0 = performance.now();
  const reader = TraceReader.open(dir);
  if ('error' in reader) return reader;
  const path = opts.path ?? join(dir, INDEX_FILE);
  const tmp = `${path}.build-${process.pid}`;
  const key = cacheKey(dir);
  rmSync(tmp, { force: true });
  rmSync(`${tmp}.wal`, { force: true });
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(tmp);
  } catch (e) {
    return { error: `cannot create ${tmp}: ${(e as Error).message}` };
  }
  const cons: DuckDBConnection[] = [];
  try {
    const con = await instance.connect();
    cons.push(con);
    const r = await fill(reader, con, instance, cons, key, opts.progress);
    if ('error' in r) return r;
    await con.run('CHECKPOINT');
    for (const c of cons) c.closeSync();
    cons.length = 0;
    instance.closeSync();
    renameSync(tmp, path);
    return { path, rows: r.rows, calls: r.calls, seconds: (performance.now() - t0) / 1000, copySeconds: r.copySeconds };
  } catch (e) {
    return { error: `indexing ${dir}: ${(e as Error).message}` };
  } finally {
    for (const c of cons) c.closeSync();
    try { instance.closeSync(); } catch { /* already closed */ }
    rmSync(tmp, { force: true });
    rmSync(`${tmp}.wal`, { force: true });
  }
}

async function fill(reader: TraceReader, con: DuckDBConnection, instance: DuckDBInstance, cons: DuckDBConnection[], key: string, progress?: IndexProgress): Promise<{ rows: number; calls: number; copySeconds: number } | { error: string }> {
  const kindOfCode = await codeTable(reader, con);
  if ('error' in kindOfCode) return kindOfCode;
  const initial = await registersTable(reader, con);
  // the per-step tables: three table-function scans running at once, each on its own connection
  const collector = new CallCollector(kindOfCode);
  const total = BULK_TABLES.reduce((s, t) => s + reader.table(t.source).rows, 0);
  let done = 0;
  const tc = performance.now();
  const runScan = async (t: typeof BULK_TABLES[number]): Promise<{ table: typeof BULK_TABLES[number]; error: string | undefined }> => {
    const c = await instance.connect();
    cons.push(c);
    const stream = reader.stream(t.source);
    function* batches(): Generator<ScanBatch> {
      for (const b of stream) {
        if (t.source === 'insns') collector.insns(b);
        else if (t.source === 'regs') collector.regs(b);
        done += b.length;
        progress?.(done, total);
        yield { length: b.length, cols: b.cols as unknown as ArrayBufferView[] };
      }
    }
    const scan = registerColumnScan(c, `itrace_scan_${t.table}`, t.columns, batches());
    await c.run(`CREATE TABLE ${t.table} AS SELECT * FROM itrace_scan_${t.table}()`);
    return { table: t, error: scan.error() ?? stream.error };
  };
  const scans = await Promise.all(BULK_TABLES.map(runScan));
  for (const s of scans) if (s.error !== undefined) return { error: `${s.table.source}: ${s.error}` };
  await con.run('CHECKPOINT');
  const copySeconds = (performance.now() - tc) / 1000;
  // the small tables
  await eventsTable(reader, con);
  await syscallsTable(reader, con);
  await inputsTable(reader, con);
  await symbolsTable(reader, con);
  await metaTable(reader, con, key);
  // the call tree
  const tree = buildCallTree(collector.input(initial.rsp));
  await callsRawTable(con, tree, callRegisters(tree, collector, initial.values));
  for (const sql of derivedSql()) await con.run(sql);
  return { rows: total, calls: tree.length, copySeconds };
}

/** code: one row per distinct (rip, bytes) with its disassembly and symbol; returns the CALL/RET kind per row. */
async function codeTable(reader: TraceReader, con: DuckDBConnection): Promise<Uint8Array | { error: string }> {
  const t = reader.readTable('code');
  if (t.error !== undefined) return { error: t.error };
  const c = t.columns;
  const symbols = readTraceSymbols(reader.dir);
  const ids = c.ints('id'), rip = c.words('rip'), bytes = c.bytes('bytes');
  const n = c.length;
  let maxId = 0;
  for (let i = 0; i < n; i++) maxId = Math.max(maxId, ids[i]!);
  const kind = new Uint8Array(maxId + 1);
  const cols = { id: [] as DuckDBValue[], rip: [] as DuckDBValue[], bytes: [] as DuckDBValue[], mnemonic: [] as DuckDBValue[], disassembly: [] as DuckDBValue[], symbol: [] as DuckDBValue[], offset: [] as DuckDBValue[], is_call: [] as DuckDBValue[], is_ret: [] as DuckDBValue[] };
  for (let i = 0; i < n; i++) {
    const addr = u64(rip, i);
    const b = bytes[i]!;
    const d = b.length > 0 ? disassemble(addr, b) : undefined;
    const hit = symbols.lookup(addr);
    if (d?.isCall === true) kind[ids[i]!] = BRANCH_CALL;
    if (d?.isRet === true) kind[ids[i]!] = BRANCH_RET;
    cols.id.push(ids[i]!); cols.rip.push(addr); cols.bytes.push(blobValue(b));
    cols.mnemonic.push(d?.mnemonic ?? null); cols.disassembly.push(d?.text ?? null);
    cols.symbol.push(hit?.symbol.name ?? null); cols.offset.push(hit?.offset ?? null);
    cols.is_call.push(d?.isCall ?? false); cols.is_ret.push(d?.isRet ?? false);
  }
  await appendColumns(con, 'code', [
    { name: 'id', sqlType: 'UINTEGER', type: UINTEGER, values: cols.id },
    { name: 'rip', sqlType: 'UBIGINT', type: UBIGINT, values: cols.rip },
    { name: 'bytes', sqlType: 'BLOB', type: BLOB, values: cols.bytes },
    { name: 'mnemonic', sqlType: 'VARCHAR', type: VARCHAR, values: cols.mnemonic },
    { name: 'disassembly', sqlType: 'VARCHAR', type: VARCHAR, values: cols.disassembly },
    { name: 'symbol', sqlType: 'VARCHAR', type: VARCHAR, values: cols.symbol },
    { name: 'offset', sqlType: 'UBIGINT', type: UBIGINT, values: cols.offset },
    { name: 'is_call', sqlType: 'BOOLEAN', type: BOOLEAN, values: cols.is_call },
    { name: 'is_ret', sqlType: 'BOOLEAN', type: BOOLEAN, values: cols.is_ret },
  ]);
  return kind;
}

/** registers: id, name and value before step 0 (from checkpoint 0); returns RSP and all values before step 0. */
async function registersTable(reader: TraceReader, con: DuckDBConnection): Promise<{ rsp: [number, number]; values: (bigint | null)[] }> {
  const cp = reader.readCheckpoint(0);
  const state = 'error' in cp ? undefined : cp.state;
  const view = state === undefined ? undefined : new DataView(state.buffer, state.byteOffset, state.byteLength);
  const value = (off: number, bytes: 4 | 8): bigint | null => {
    if (view === undefined || off + bytes > view.byteLength) return null;
    return bytes === 8 ? view.getBigUint64(off, true) : BigInt(view.getUint32(off, true));
  };
  const values = REGISTERS.map((r) => value(r.off, r.bytes));
  await appendColumns(con, 'registers', [
    { name: 'id', sqlType: 'UTINYINT', type: UTINYINT, values: REGISTERS.map((r) => r.id) },
    { name: 'name', sqlType: 'VARCHAR', type: VARCHAR, values: REGISTERS.map((r) => r.name) },
    { name: 'initial', sqlType: 'UBIGINT', type: UBIGINT, values },
  ]);
  const rsp = REGISTERS[4]!;
  return { rsp: view === undefined ? [0, 0] : [view.getUint32(rsp.off, true), view.getUint32(rsp.off + 4, true)], values };
}

function whole(reader: TraceReader, name: 'events' | 'syscalls' | 'inputs'): TableColumns {
  const t = reader.readTable(name);
  if (t.error !== undefined) throw new Error(t.error);
  return t.columns;
}

const bigs = (a: BigUint64Array | BigInt64Array): bigint[] => Array.from(a);
const nums = (a: ArrayLike<number>): number[] => Array.from(a);

async function eventsTable(reader: TraceReader, con: DuckDBConnection): Promise<void> {
  const e = whole(reader, 'events');
  await appendColumns(con, 'events', [
    { name: 'seq', sqlType: 'UBIGINT', type: UBIGINT, values: bigs(e.u64('seq')) },
    { name: 'kind', sqlType: 'VARCHAR', type: VARCHAR, values: [...e.strings('kind')] },
    { name: 'vector', sqlType: 'SMALLINT', type: SMALLINT, values: nums(e.ints('vector')) },
    { name: 'error_code', sqlType: 'UINTEGER', type: UINTEGER, values: nums(e.ints('error_code')) },
    { name: 'cr2', sqlType: 'UBIGINT', type: UBIGINT, values: bigs(e.u64('cr2')) },
    { name: 'from_ring', sqlType: 'UTINYINT', type: UTINYINT, values: nums(e.ints('from_cpl')) },
    { name: 'to_ring', sqlType: 'UTINYINT', type: UTINYINT, values: nums(e.ints('to_cpl')) },
    { name: 'from_rip', sqlType: 'UBIGINT', type: UBIGINT, values: bigs(e.u64('from_rip')) },
    { name: 'to_rip', sqlType: 'UBIGINT', type: UBIGINT, values: bigs(e.u64('to_rip')) },
  ]);
}

async function syscallsTable(reader: TraceReader, con: DuckDBConnection): Promise<void> {
  const s = whole(reader, 'syscalls');
  const args = [0, 1, 2, 3, 4, 5].map((i) => ({ name: `arg${i}`, sqlType: 'UBIGINT', type: UBIGINT, values: bigs(s.u64(`arg${i}`)) }));
  await appendColumns(con, 'syscalls_raw', [
    { name: 'entry_seq', sqlType: 'UBIGINT', type: UBIGINT, values: bigs(s.u64('entry_seq')) },
    { name: 'return_seq', sqlType: 'BIGINT', type: BIGINT, values: bigs(s.i64('return_seq')) },
    { name: 'number', sqlType: 'UINTEGER', type: UINTEGER, values: nums(s.ints('number')) },
    { name: 'name', sqlType: 'VARCHAR', type: VARCHAR, values: [...s.strings('name')] },
    ...args,
    { name: 'result', sqlType: 'BIGINT', type: BIGINT, values: bigs(s.i64('result')) },
  ]);
}

async function inputsTable(reader: TraceReader, con: DuckDBConnection): Promise<void> {
  const t = whole(reader, 'inputs');
  await appendColumns(con, 'inputs', [
    { name: 'seq', sqlType: 'UBIGINT', type: UBIGINT, values: bigs(t.u64('seq')) },
    { name: 'kind', sqlType: 'VARCHAR', type: VARCHAR, values: [...t.strings('kind')] },
    { name: 'data', sqlType: 'BLOB', type: BLOB, values: t.bytes('data').map((b) => blobValue(b)) },
  ]);
}

async function symbolsTable(reader: TraceReader, con: DuckDBConnection): Promise<void> {
  const s = readTraceSymbols(reader.dir).symbols;
  await appendColumns(con, 'symbols', [
    { name: 'name', sqlType: 'VARCHAR', type: VARCHAR, values: s.map((x) => x.name) },
    { name: 'address', sqlType: 'UBIGINT', type: UBIGINT, values: s.map((x) => x.address) },
    { name: 'size', sqlType: 'UBIGINT', type: UBIGINT, values: s.map((x) => x.size) },
    { name: 'source', sqlType: 'VARCHAR', type: VARCHAR, values: s.map((x) => x.source) },
  ]);
}

async function metaTable(reader: TraceReader, con: DuckDBConnection, key: string): Promise<void> {
  const entries = Object.entries(reader.meta).filter(([k]) => k !== 'kernelSymbols');
  const keys = entries.map(([k]) => k), values = entries.map(([, v]) => (typeof v === 'string' ? v : JSON.stringify(v)));
  keys.push('index_version', 'index_key');
  values.push(String(INDEX_VERSION), key);
  await appendColumns(con, 'meta', [
    { name: 'key', sqlType: 'VARCHAR', type: VARCHAR, values: keys },
    { name: 'value', sqlType: 'VARCHAR', type: VARCHAR, values },
  ]);
}

/** Float64 (integral, < 2^53) to lo/hi u32 words, so a 64-bit column can be copied byte for byte. */
function words(a: Float64Array): Uint32Array {
  const w = new Uint32Array(2 * a.length);
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (v < 0) { w[2 * i] = 0xffff_ffff; w[2 * i + 1] = 0xffff_ffff; continue; } // -1 as int64
    w[2 * i] = v >>> 0;
    w[2 * i + 1] = Math.floor(v / 0x1_0000_0000);
  }
  return w;
}

/** The argument registers at each CALL (after the step) and RAX after each RET, as lo/hi word columns. */
function callRegisters(t: CallTree, collector: CallCollector, initial: readonly (bigint | null)[]): Uint32Array[] {
  const regs = [ARG_REGISTERS.rdi, ARG_REGISTERS.rsi, ARG_REGISTERS.rdx, ARG_REGISTERS.rcx, ARG_REGISTERS.r8, ARG_REGISTERS.r9, ARG_REGISTERS.rax];
  return regs.map((id, k) => {
    const h = collector.history(id);
    const init = initial[id] ?? 0n;
    const out = new Uint32Array(2 * t.length);
    for (let f = 0; f < t.length; f++) {
      const at = k < 6 ? t.callSeq[f]! : t.returnSeq[f]!;
      if (at < 0) continue; // no return: ret_value is NULL (masked in SQL)
      const v = valueAfter(h, at);
      out[2 * f] = v === undefined ? Number(init & 0xffff_ffffn) : v[0];
      out[2 * f + 1] = v === undefined ? Number(init >> 32n) : v[1];
    }
    return out;
  });
}

async function callsRawTable(con: DuckDBConnection, t: CallTree, regs: Uint32Array[]): Promise<void> {
  const parentSeq = new Float64Array(t.length);
  for (let f = 0; f < t.length; f++) {
    const p = t.parent[f]!;
    parentSeq[f] = p >= 0 ? t.callSeq[p]! : -1;
  }
  const columns: ScanColumn[] = [
    { name: 'call_seq', type: UBIGINT, width: 8 }, { name: 'return_seq', type: BIGINT, width: 8 },
    { name: 'end_seq', type: UBIGINT, width: 8 }, { name: 'ended', type: UTINYINT, width: 1 }, { name: 'depth', type: UINTEGER, width: 4 },
    { name: 'ring', type: UTINYINT, width: 1 }, { name: 'parent_seq', type: BIGINT, width: 8 }, { name: 'caller_rip', type: UBIGINT, width: 8 },
    { name: 'target', type: UBIGINT, width: 8 }, { name: 'rsp', type: UBIGINT, width: 8 },
    { name: 'inclusive', type: UBIGINT, width: 8 }, { name: 'exclusive', type: UBIGINT, width: 8 },
    ...['arg0', 'arg1', 'arg2', 'arg3', 'arg4', 'arg5', 'ret_value'].map((name): ScanColumn => ({ name, type: UBIGINT, width: 8 })),
  ];
  const batch: ScanBatch = {
    length: t.length,
    cols: [words(t.callSeq), words(t.returnSeq), words(t.endSeq), t.end, t.depth, t.ring, words(parentSeq), t.callerRip, t.target, t.rsp, words(t.inclusive), words(t.exclusive), ...regs],
  };
  const scan = registerColumnScan(con, 'itrace_scan_calls', columns, [batch]);
  await con.run('CREATE TABLE calls_raw AS SELECT * FROM itrace_scan_calls()');
  const err = scan.error();
  if (err !== undefined) throw new Error(err);
}
