// A SQL session over one or more traces: an in-memory DuckDB with each trace's cached index attached read-only
// under its alias (the first one is also the default catalog), plus the session macros and any tables the caller
// sets up; then the session is sandboxed (sandbox.ts) and only user SQL runs. An index whose key no longer matches
// its trace's files is rebuilt before it is attached. Errors (bad trace, bad SQL, refused SQL) are values.
import { join } from 'node:path';
import { DuckDBConnection, DuckDBInstance, DuckDBValue } from '@duckdb/node-api';
import { BUILD_SCRATCH, buildIndex, indexFiles, indexFilesPresent, IndexProgress } from './build-index.js';
import { removeStaleScratch } from '../replayer/build-scratch.js';
import { cacheKey, INDEX_FILE } from './cache-key.js';
import { refusedCalls, refusedStatement, sandboxStatements } from './sandbox.js';
import { formatMacros, traceMacros } from './session-macros.js';

/** One trace of a session. */
export interface SessionTrace {
  /** Catalog name in SQL (a.insns). */
  readonly alias: string;
  /** Trace directory. */
  readonly dir: string;
}

/** A query result. */
export interface QueryResult {
  /** Column names. */
  readonly columns: string[];
  /** DuckDB type names of the columns. */
  readonly types: string[];
  /** Rows (DuckDB values: bigint for 64-bit integers, DuckDBBlobValue for BLOB, ...). */
  readonly rows: DuckDBValue[][];
}

/** Options of QuerySession.open. */
export interface SessionOptions {
  /** Progress of index builds (trace directory, rows done, rows total). */
  readonly progress?: (dir: string, done: number, total: number) => void;
  /** Trusted statements run after the macros and before the sandbox closes (e.g. the diff's tables). */
  readonly setup?: readonly string[];
}

/** A user error in SQL: `refused` when the sandbox refused it (not run), otherwise DuckDB's message. */
export interface QueryError {
  /** One-line message. */
  readonly error: string;
  /** True when the SQL was refused by the sandbox rather than failing in DuckDB. */
  readonly refused: boolean;
}

const ALIAS = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Make sure `<dir>/query.duckdb` (and the Parquet files beside it) is current; returns its path. */
export async function ensureIndex(dir: string, progress?: IndexProgress): Promise<string | { error: string }> {
  const path = join(dir, INDEX_FILE);
  removeStaleScratch(dir, BUILD_SCRATCH);
  if (indexFilesPresent(path) && (await storedKey(path)) === cacheKey(dir)) return path;
  const built = await buildIndex(dir, { progress });
  return 'error' in built ? built : built.path;
}

async function storedKey(path: string): Promise<string | undefined> {
  let instance: DuckDBInstance | undefined;
  let con: DuckDBConnection | undefined;
  try {
    instance = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
    con = await instance.connect();
    const r = await con.runAndReadAll("SELECT value FROM meta WHERE key = 'index_key'");
    const v = r.getRows()[0]?.[0];
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  } finally {
    con?.closeSync();
    instance?.closeSync();
  }
}

/** An open session. */
export class QuerySession {
  /** The traces, in the order given. */
  readonly traces: readonly SessionTrace[];
  private readonly instance: DuckDBInstance;
  private readonly con: DuckDBConnection;

  private constructor(traces: readonly SessionTrace[], instance: DuckDBInstance, con: DuckDBConnection) {
    this.traces = traces;
    this.instance = instance;
    this.con = con;
  }

  /** Open a session over these traces (building or refreshing their indexes as needed). */
  static async open(traces: readonly SessionTrace[], opts: SessionOptions = {}): Promise<QuerySession | { error: string }> {
    if (traces.length === 0) return { error: 'no trace given' };
    for (const t of traces) {
      if (!ALIAS.test(t.alias)) return { error: `bad trace alias "${t.alias}": use letters, digits and _` };
      if (traces.filter((u) => u.alias === t.alias).length > 1) return { error: `trace alias "${t.alias}" given twice` };
    }
    const paths: string[] = [];
    for (const t of traces) {
      const p = await ensureIndex(t.dir, opts.progress === undefined ? undefined : (d, n) => opts.progress!(t.dir, d, n));
      if (typeof p !== 'string') return p;
      paths.push(p);
    }
    const instance = await DuckDBInstance.create(':memory:');
    const con = await instance.connect();
    try {
      for (let i = 0; i < traces.length; i++) await con.run(`ATTACH '${paths[i]!.replaceAll("'", "''")}' AS "${traces[i]!.alias}" (READ_ONLY)`);
      await con.run(`USE "${traces[0]!.alias}"`);
      const stmts = [...formatMacros(), ...traceMacros(traces[0]!.alias, '')];
      if (traces.length > 1) for (const t of traces) stmts.push(...traceMacros(t.alias, `${t.alias}_`));
      for (const s of stmts) await con.run(s);
      for (const s of opts.setup ?? []) await con.run(s);
      for (const s of sandboxStatements(paths.flatMap((p) => indexFiles(p).filter((f) => f !== p)))) await con.run(s);
    } catch (e) {
      con.closeSync();
      instance.closeSync();
      return { error: (e instanceof Error ? e.message : String(e)).split('\n')[0]! };
    }
    return new QuerySession(traces, instance, con);
  }

  /**
   * Run SQL (one or more statements, in order; the result is the last one's). Calls of refused functions refuse the
   * whole text before anything runs; each statement's type is checked when it is prepared, before it runs.
   */
  async run(sql: string): Promise<QueryResult | QueryError> {
    const calls = refusedCalls(sql);
    if (calls !== undefined) return { error: `refused: ${calls}`, refused: true };
    try {
      const stmts = await this.con.extractStatements(sql);
      if (stmts.count === 0) return { error: 'no SQL statement given', refused: false };
      let last: QueryResult | undefined;
      for (let i = 0; i < stmts.count; i++) {
        const p = await stmts.prepare(i);
        try {
          const why = refusedStatement(p.statementType);
          if (why !== undefined) return { error: `refused: ${why}`, refused: true };
          const r = await p.runAndReadAll();
          last = { columns: r.columnNames(), types: r.columnTypes().map((t) => t.toString()), rows: r.getRows() };
        } finally {
          p.destroySync();
        }
      }
      return last!;
    } catch (e) {
      return duckdbError(e);
    }
  }

  /** Close the session (synchronous). */
  closeSync(): void {
    this.con.closeSync();
    this.instance.closeSync();
  }
}

/**
 * DuckDB's message as one line: its first line (the rest is the statement with a caret, or candidates). A file access
 * the sandbox blocked is a refusal.
 */
function duckdbError(e: unknown): QueryError {
  const first = (e instanceof Error ? e.message : String(e)).split('\n')[0]!.trim().replace(/^Failed to extract statements: /, '');
  if (/^Permission Error: .*disabled (by|through) configuration/.test(first)) {
    return { error: `refused: ${first.replace(/^Permission Error: /, '')} (SQL here sees only the trace's tables)`, refused: true };
  }
  if (/the configuration has been locked/.test(first)) return { error: `refused: ${first.replace(/^Invalid Input Error: /, '')}`, refused: true };
  return { error: first, refused: false };
}

/** Parse `alias=DIR` or `DIR` arguments: a bare DIR gets alias `t` (first) or `t2`, `t3`... */
export function parseTraceArgs(args: readonly string[]): SessionTrace[] {
  return args.map((a, i) => {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.+)$/.exec(a);
    return m !== null ? { alias: m[1]!, dir: m[2]! } : { alias: i === 0 ? 't' : `t${i + 1}`, dir: a };
  });
}
