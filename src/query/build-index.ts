// Builds the index of a trace: a DuckDB file holding the small and derived tables (disassembled code rows, call
// tree, page faults with handler steps, system calls with kernel steps), mem, and the views, plus the Parquet files
// behind the steps and regs views beside it (query.steps.parquet, query.regs.parquet). Every per-step table is
// first written as Parquet from the trace's zstd column bodies as they are (parquet-writer.ts), which costs reading
// and writing the trace's bytes once, where storing them in DuckDB's own format re-compresses every value (about
// 2 M rows/s on 2 cores); mem is then loaded into DuckDB by DuckDB's threads while the JS thread goes on with the
// other tables. The call tree and the page faults' re-execution steps are collected from the same batches (insns
// and regs decompressed once for them). Every file is written under a temporary name and renamed into place, the
// DuckDB file last (it holds the cache key), so a reader never sees half an index.
import { existsSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  BIGINT, BLOB, BOOLEAN, DuckDBConnection, DuckDBInstance, DuckDBValue, SMALLINT, UBIGINT, UINTEGER, UTINYINT, VARCHAR, blobValue,
} from '@duckdb/node-api';
import { appendColumns } from './append-columns.js';
import { cacheKey, INDEX_FILE, INDEX_VERSION } from './cache-key.js';
import { BRANCH_CALL, BRANCH_RET, buildCallTree, CallTree } from './call-tree.js';
import { ARG_REGISTERS, CallCollector, valueAfter } from './call-collector.js';
import { registerColumnScan, ScanBatch, ScanColumn } from './column-scan.js';
import { derivedSql, viewSql } from './index-sql.js';
import { BULK_TABLES, BulkTable, enumTypesSql, PARQUET_TABLES, parquetPath } from './index-tables.js';
import { ParquetWriter } from './parquet-writer.js';
import { decodeBatch, rawBatches } from './raw-batches.js';
import { FaultCollector, FaultInput } from './fault-collector.js';
import { cleanupOnSignal, removeStaleScratch } from '../replayer/build-scratch.js';
import { disassemble } from '../trace/disassemble.js';
import { REGISTERS } from '../trace/registers.js';
import { readTraceSymbols } from '../trace/symbols.js';
import { readModules } from '../trace/modules-file.js';
import { readProcesses } from '../trace/processes-file.js';
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
  /** Wall time from the start of copying the per-step tables (steps, regs, mem) until they are all in place, seconds. */
  readonly copySeconds: number;
}

/** Options of buildIndex. */
export interface BuildOptions {
  /** Progress callback (called often: throttle printing). */
  readonly progress?: IndexProgress;
  /** Where to write the index (default `<trace>/query.duckdb`; the Parquet files go beside it). */
  readonly path?: string;
}

const u64 = (w: Uint32Array | ArrayLike<number>, i: number): bigint => (BigInt(w[2 * i + 1]!) << 32n) | BigInt(w[2 * i]!);

const u64Bytes = (v: bigint): Uint8Array => new Uint8Array(new BigUint64Array([v]).buffer);

const sqlString = (s: string): string => `'${s.replaceAll("'", "''")}'`;

/** The files of an index at `path`: the Parquet files behind its views, then the DuckDB file. */
export function indexFiles(path: string): string[] {
  return [...PARQUET_TABLES.map((t) => parquetPath(path, t.table)), path];
}

/** True if every file of the index at `path` exists. */
export function indexFilesPresent(path: string): boolean {
  return indexFiles(path).every((f) => existsSync(f));
}

/** Names of a build's scratch files (group 1: the building process's id). */
export const BUILD_SCRATCH = /\.build-(\d+)(\.|$)/;

/** Where a build writes each bulk table's Parquet file (`file`) and where it ends up (`final`, for views). */
interface BulkFile {
  readonly table: BulkTable;
  readonly file: string;
  readonly final: string | undefined;
}

/** Build (or rebuild) the index of a trace; errors are values. */
export async function buildIndex(dir: string, opts: BuildOptions = {}): Promise<IndexBuild | { error: string }> {
  const t0 = performance.now();
  const reader = TraceReader.open(dir);
  if ('error' in reader) return reader;
  const path = resolve(opts.path ?? join(dir, INDEX_FILE));
  const suffix = `.build-${process.pid}`;
  const tmp = `${path}${suffix}`;
  const files: BulkFile[] = BULK_TABLES.map((t) => {
    const final = parquetPath(path, t.table);
    return t.stored === 'view' ? { table: t, file: `${final}${suffix}`, final } : { table: t, file: parquetPath(tmp, t.table), final: undefined };
  });
  const key = cacheKey(dir);
  const scratch = [tmp, `${tmp}.wal`, ...files.map((f) => f.file)];
  const clean = (): void => { for (const f of scratch) rmSync(f, { force: true }); };
  removeStaleScratch(dirname(path), BUILD_SCRATCH);
  clean();
  const release = cleanupOnSignal(clean);
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(tmp);
  } catch (e) {
    clean();
    release();
    return { error: `cannot create ${tmp}: ${(e as Error).message.split('\n')[0]}` };
  }
  const cons: DuckDBConnection[] = [];
  try {
    const con = await instance.connect();
    cons.push(con);
    const loader = await instance.connect();
    cons.push(loader);
    const r = await fill(reader, con, loader, key, files, opts.progress);
    if ('error' in r) return r;
    await con.run('CHECKPOINT');
    for (const c of cons) c.closeSync();
    cons.length = 0;
    instance.closeSync();
    renameSync(tmp, path);
    return { path, rows: r.rows, calls: r.calls, seconds: (performance.now() - t0) / 1000, copySeconds: r.copySeconds };
  } catch (e) {
    return { error: `indexing ${dir}: ${(e as Error).message.split('\n')[0]}` };
  } finally {
    for (const c of cons) c.closeSync();
    try { instance.closeSync(); } catch { /* already closed */ }
    clean();
    release();
  }
}

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * Write the per-step tables as Parquet files, feeding the collectors; `written` is called as each file is
 * complete. Yields to the event loop between batches, so DuckDB's asynchronous work started meanwhile proceeds.
 */
async function writeBulkTables(reader: TraceReader, files: readonly BulkFile[], collector: CallCollector, faults: FaultCollector, written: (f: BulkFile) => void, progress?: IndexProgress): Promise<number | { error: string }> {
  const total = files.reduce((s, f) => s + reader.table(f.table.source).rows, 0);
  let done = 0, steps = 0;
  for (const f of files) {
    const t = f.table;
    const writer = new ParquetWriter(f.file, t.columns);
    const batches = rawBatches(reader, t.source);
    try {
      for (const b of batches) {
        let first: bigint, last: bigint;
        if (t.source === 'insns') {
          // seq is the row number: only the columns the collectors read are decompressed
          const cols: TableColumns = decodeBatch(t.source, b, ['rip', 'cpl', 'code', 'faulted']);
          collector.insns(cols);
          faults.insns(cols.words('rip'), cols.ints('cpl'), b.length);
          first = BigInt(steps);
          last = BigInt(steps + b.length - 1);
          steps += b.length;
        } else {
          // seq is stored delta-coded: decoded for the statistics (and, for regs, the call tree's input)
          const cols = decodeBatch(t.source, b, t.source === 'regs' ? undefined : ['seq']);
          if (t.source === 'regs') collector.regs(cols);
          const w = cols.words('seq');
          first = BigInt(w[0]!) | (BigInt(w[1]!) << 32n);
          last = BigInt(w[2 * b.length - 2]!) | (BigInt(w[2 * b.length - 1]!) << 32n);
        }
        writer.writeRowGroup(b.length, b.cols, [[u64Bytes(first), u64Bytes(last)]]);
        done += b.length;
        progress?.(done, total);
        await nextTurn();
      }
    } catch (e) {
      writer.abandon();
      return { error: `${t.source}: ${(e as Error).message}` };
    }
    if (batches.error !== undefined) {
      writer.abandon();
      return { error: `${t.source}: ${batches.error}` };
    }
    writer.close();
    written(f);
  }
  return done;
}

async function fill(reader: TraceReader, con: DuckDBConnection, loader: DuckDBConnection, key: string, files: readonly BulkFile[], progress?: IndexProgress): Promise<{ rows: number; calls: number; copySeconds: number } | { error: string }> {
  const kindOfCode = await codeTable(reader, con);
  if ('error' in kindOfCode) return kindOfCode;
  const initial = await registersTable(reader, con);
  for (const sql of enumTypesSql()) await con.run(sql);
  // the per-step tables (a table is loaded by DuckDB as soon as its file is written), and the call tree's and the
  // page faults' input collected from the same batches
  const collector = new CallCollector(kindOfCode);
  const events = whole(reader, 'events');
  const faultList = pageFaults(events);
  const faults = new FaultCollector(faultList);
  const tc = performance.now();
  const loads: Promise<unknown>[] = [];
  const rows = await writeBulkTables(reader, files, collector, faults, (f) => {
    if (f.table.stored === 'table') loads.push(loader.run(`CREATE TABLE ${f.table.table} AS SELECT ${f.table.select} FROM read_parquet(${sqlString(f.file)})`));
  }, progress);
  if (typeof rows !== 'number') {
    await Promise.allSettled(loads);
    return rows;
  }
  // the small tables
  await eventsTable(events, con);
  await appendColumns(con, 'pf_reexec', [
    { name: 'seq', sqlType: 'UBIGINT', type: UBIGINT, values: faultList.map((f) => BigInt(f.seq)) },
    { name: 'rip', sqlType: 'UBIGINT', type: UBIGINT, values: faultList.map((f) => (BigInt(f.ripHi) << 32n) | BigInt(f.ripLo)) },
    { name: 'ring', sqlType: 'UTINYINT', type: UTINYINT, values: faultList.map((f) => f.ring) },
    { name: 'reexec_seq', sqlType: 'UBIGINT', type: UBIGINT, values: Array.from(faults.reexec, (v) => (v < 0 ? null : BigInt(v))) },
  ]);
  await syscallsTable(reader, con);
  await inputsTable(reader, con);
  await symbolsTable(reader, con);
  await modulesTable(reader, con);
  await processTables(reader, con);
  await metaTable(reader, con, key);
  // the call tree
  const tree = buildCallTree(collector.input(initial.rsp));
  const cr = callRegisters(tree, collector, initial.values);
  const scan = callsScan(con, tree, cr);
  const steps = reader.table('insns').rows;
  for (const sql of derivedSql(steps - 1)) await con.run(sql);
  const scanError = scan.error();
  if (scanError !== undefined) return { error: `calls: ${scanError}` };
  await Promise.all(loads);
  const copySeconds = (performance.now() - tc) / 1000;
  // the Parquet files in place, then the views over them
  for (const f of files) if (f.final !== undefined) renameSync(f.file, f.final);
  for (const sql of viewSql(files.filter((f) => f.final !== undefined).map((f) => f.final!))) await con.run(sql);
  return { rows, calls: tree.length, copySeconds };
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
  const cols = { id: [] as DuckDBValue[], rip: [] as DuckDBValue[], bytes: [] as DuckDBValue[], mnemonic: [] as DuckDBValue[], disassembly: [] as DuckDBValue[], symbol: [] as DuckDBValue[], callee: [] as DuckDBValue[], offset: [] as DuckDBValue[], is_call: [] as DuckDBValue[], is_ret: [] as DuckDBValue[] };
  for (let i = 0; i < n; i++) {
    const addr = u64(rip, i);
    const b = bytes[i]!;
    const d = b.length > 0 ? disassemble(addr, b) : undefined;
    const hit = symbols.lookup(addr);
    if (d?.isCall === true) kind[ids[i]!] = BRANCH_CALL;
    if (d?.isRet === true) kind[ids[i]!] = BRANCH_RET;
    cols.id.push(ids[i]!); cols.rip.push(addr); cols.bytes.push(blobValue(b));
    cols.mnemonic.push(d?.mnemonic ?? null); cols.disassembly.push(d?.text ?? null);
    cols.symbol.push(hit !== undefined ? symbols.label(hit.symbol) : null); cols.offset.push(hit?.offset ?? null);
    cols.callee.push(symbols.callee(addr) ?? null);
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
    { name: 'callee', sqlType: 'VARCHAR', type: VARCHAR, values: cols.callee },
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

/** The page faults among the events, in seq order. */
function pageFaults(e: TableColumns): FaultInput[] {
  const kind = e.strings('kind'), seq = e.words('seq'), rip = e.words('from_rip'), ring = e.ints('from_cpl');
  const out: FaultInput[] = [];
  for (let i = 0; i < e.length; i++) {
    if (kind[i] === 'page_fault') out.push({ seq: seq[2 * i]! + seq[2 * i + 1]! * 0x1_0000_0000, ripLo: rip[2 * i]!, ripHi: rip[2 * i + 1]!, ring: ring[i]! });
  }
  return out.sort((a, b) => a.seq - b.seq);
}

async function eventsTable(e: TableColumns, con: DuckDBConnection): Promise<void> {
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

async function modulesTable(reader: TraceReader, con: DuckDBConnection): Promise<void> {
  const m = readModules(reader.dir);
  await appendColumns(con, 'modules', [
    { name: 'name', sqlType: 'VARCHAR', type: VARCHAR, values: m.map((x) => x.name) },
    { name: 'path', sqlType: 'VARCHAR', type: VARCHAR, values: m.map((x) => x.path) },
    { name: 'base', sqlType: 'UBIGINT', type: UBIGINT, values: m.map((x) => x.base) },
    { name: 'start', sqlType: 'UBIGINT', type: UBIGINT, values: m.map((x) => x.start) },
    { name: 'size', sqlType: 'UBIGINT', type: UBIGINT, values: m.map((x) => x.size) },
    { name: 'build_id', sqlType: 'VARCHAR', type: VARCHAR, values: m.map((x) => x.buildId) },
    { name: 'map_seq', sqlType: 'UBIGINT', type: UBIGINT, values: m.map((x) => BigInt(x.mapSeq)) },
    { name: 'unmap_seq', sqlType: 'UBIGINT', type: UBIGINT, values: m.map((x) => (x.unmapSeq === null ? null : BigInt(x.unmapSeq))) },
  ]);
}

/** processes, threads and schedule (processes.json; one process and thread, pid = tid = 1, for a version-3 trace). */
async function processTables(reader: TraceReader, con: DuckDBConnection): Promise<void> {
  const p = readProcesses(reader.dir, reader.meta.argv);
  const big = (v: number | null): bigint | null => (v === null ? null : BigInt(v));
  await appendColumns(con, 'processes', [
    { name: 'pid', sqlType: 'UINTEGER', type: UINTEGER, values: p.processes.map((x) => x.pid) },
    { name: 'ppid', sqlType: 'UINTEGER', type: UINTEGER, values: p.processes.map((x) => x.ppid) },
    { name: 'image', sqlType: 'VARCHAR', type: VARCHAR, values: p.processes.map((x) => x.image) },
    { name: 'argv', sqlType: 'VARCHAR', type: VARCHAR, values: p.processes.map((x) => JSON.stringify(x.argv)) },
    { name: 'fork_seq', sqlType: 'UBIGINT', type: UBIGINT, values: p.processes.map((x) => BigInt(x.forkSeq)) },
    { name: 'exec_seqs', sqlType: 'VARCHAR', type: VARCHAR, values: p.processes.map((x) => x.execSeqs.join(',')) },
    { name: 'exit_seq', sqlType: 'UBIGINT', type: UBIGINT, values: p.processes.map((x) => big(x.exitSeq)) },
    { name: 'exit_status', sqlType: 'UINTEGER', type: UINTEGER, values: p.processes.map((x) => x.exitStatus) },
    { name: 'signal', sqlType: 'UINTEGER', type: UINTEGER, values: p.processes.map((x) => x.signal) },
  ]);
  await appendColumns(con, 'threads', [
    { name: 'tid', sqlType: 'UINTEGER', type: UINTEGER, values: p.threads.map((x) => x.tid) },
    { name: 'pid', sqlType: 'UINTEGER', type: UINTEGER, values: p.threads.map((x) => x.pid) },
    { name: 'first_seq', sqlType: 'UBIGINT', type: UBIGINT, values: p.threads.map((x) => BigInt(x.firstSeq)) },
    { name: 'last_seq', sqlType: 'UBIGINT', type: UBIGINT, values: p.threads.map((x) => big(x.lastSeq)) },
  ]);
  const last = reader.table('insns').rows;
  const pidOf = new Map(p.threads.map((t) => [t.tid, t.pid]));
  await appendColumns(con, 'schedule', [
    { name: 'seq', sqlType: 'UBIGINT', type: UBIGINT, values: p.schedule.map((x) => BigInt(x.seq)) },
    { name: 'end_seq', sqlType: 'UBIGINT', type: UBIGINT, values: p.schedule.map((x, i) => BigInt(Math.max(x.seq, (p.schedule[i + 1]?.seq ?? last) - 1))) },
    { name: 'tid', sqlType: 'UINTEGER', type: UINTEGER, values: p.schedule.map((x) => x.tid) },
    { name: 'pid', sqlType: 'UINTEGER', type: UINTEGER, values: p.schedule.map((x) => pidOf.get(x.tid) ?? x.tid) },
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

/** Register `itrace_scan_calls()`, the frames of the call tree (read by derivedSql's CREATE TABLE calls). */
function callsScan(con: DuckDBConnection, t: CallTree, regs: Uint32Array[]): { error: () => string | undefined } {
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
  return registerColumnScan(con, 'itrace_scan_calls', columns, [batch]);
}
