// The SQL sandbox of `trace query` and `trace diff --sql`, through the real CLI: every way out to the host that
// DuckDB offers (COPY TO, ATTACH, EXPORT DATABASE, read_csv/read_text/glob of host files, INSTALL/LOAD, SET to undo
// the sandbox, file logging, SQL run from a string, overwriting the trace's own files) is refused with one line and
// exit status 2, and afterwards the host directory, the child's HOME and every byte of both traces are as before.
// Inside the sandbox the trace's views (over the index's Parquet files) still answer, several statements print the
// last result, and --output writes CSV, JSON and Parquet files that an independent DuckDB reads back.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { diffSql } from '../../src/diff/diff-sql.js';
import { diffTraces } from '../../src/diff/diff-traces.js';
import { TraceReader } from '../../src/trace/trace-reader.js';
import { recordRun } from '../diff/record-run.js';

const RUN = resolve('bin/run.js');
let a = '', b = '', host = '', home = '';

interface Ran { status: number | null; stdout: string; stderr: string }
const cli = (...args: string[]): Ran => {
  const r = spawnSync(process.execPath, [RUN, ...args], { encoding: 'utf8', cwd: host, env: { ...process.env, HOME: home }, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};

/** Every file under `dir` (relative path -> sha256), directories included as entries. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string, rel: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name), r = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) { out.set(`${r}/`, 'dir'); walk(p, r); } else out.set(r, createHash('sha256').update(readFileSync(p)).digest('hex'));
    }
  };
  walk(dir, '');
  return out;
}

/** The escapes: what, SQL (HOST and TRACE stand for the host directory and trace a), also through the diff CLI. */
const ESCAPES: [string, string, boolean][] = [
  ['COPY TO a host file', "copy (select 1 x) to 'HOST/out.csv'", true],
  ['COPY TO a host file as Parquet', "copy (select * from insns) to 'HOST/out.parquet' (format parquet)", false],
  ['COPY FROM a host file', "create temp table c (x varchar); copy c from 'HOST/sentinel.csv'", false],
  ['COPY over the trace\'s own insns.arrows', "copy (select 1 x) to 'TRACE/insns.arrows' (format csv)", false],
  ['COPY over the index\'s Parquet file (no temp file)', "copy (select 1 x) to 'TRACE/query.steps.parquet' (format parquet, use_tmp_file false)", true],
  ['ATTACH a new database file', "attach 'HOST/new.duckdb' as n", true],
  ['ATTACH in memory', "attach ':memory:' as m", false],
  ['DETACH', 'use memory; detach t', false],
  ['CREATE DATABASE', 'create database z', false],
  ['EXPORT DATABASE', "export database 'HOST/exported'", true],
  ['read_csv of a host file', "select * from read_csv('HOST/sentinel.csv')", false],
  ['read_csv of /etc/passwd', "select * from read_csv('/etc/passwd', sep = ':')", true],
  ['read_text of a host file', "select content from read_text('HOST/sentinel.csv')", false],
  ['read_parquet of the trace\'s file (quoted name)', 'select * from "read_parquet"(\'TRACE/query.steps.parquet\')', false],
  ['a file path as a table', "select * from 'HOST/sentinel.csv'", false],
  ['glob of /', "select * from glob('/*')", true],
  ['glob of the trace', "select * from glob('TRACE/*')", false],
  ['INSTALL', 'install httpfs', true],
  ['LOAD', 'load parquet', false],
  ['SET to lift the sandbox', 'set enable_external_access = true', true],
  ['RESET the lock', 'reset lock_configuration', false],
  ['logging into a host directory', "select * from enable_logging(storage = 'file', storage_path = 'HOST/logs')", false],
  ['SQL text run by query()', "select * from query('select 1')", false],
  ['PREPARE a COPY', "prepare p as copy (select 1) to 'HOST/p.csv'", false],
  ['PRAGMA import_database', "pragma import_database('HOST')", false],
];

const fill = (sql: string): string => sql.replaceAll('HOST', host).replaceAll('TRACE', a);

beforeAll(() => {
  a = recordRun('hello-musl', []);
  b = recordRun('hello-musl', []);
  host = mkdtempSync(join(tmpdir(), 'itrace-sandbox-host-'));
  home = join(host, 'home');
  mkdirSync(home);
  writeFileSync(join(host, 'sentinel.csv'), 'secret\n42\n');
  // the first queries build both indexes (before the snapshots: an index build is the one write a query may do)
  expect(cli('query', a, 'select 1').status).toBe(0);
  expect(cli('query', b, 'select 1').status).toBe(0);
}, 300_000);

describe('the SQL sandbox', () => {
  it('the trace views still answer inside the sandbox (they read the index\'s Parquet files)', () => {
    const reader = TraceReader.open(a);
    if ('error' in reader) throw new Error(reader.error);
    const r = cli('query', a, 'select (select count(*) from insns) i, (select count(*) from regs) r, (select count(*) from mem) m', '--format', 'csv');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`i,r,m\n${reader.table('insns').rows},${reader.table('regs').rows},${reader.table('mem').rows}\n`);
  }, 120_000);

  it('several statements: each runs in order and the last one\'s result is printed', () => {
    const r = cli('query', a, "create temp table f as select symbol, count(*) n from insns group by all; select sum(n) total from f", '--format', 'csv');
    expect(r.stderr).toBe('');
    const reader = TraceReader.open(a);
    if ('error' in reader) throw new Error(reader.error);
    expect(r.stdout).toBe(`total\n${reader.table('insns').rows}\n`);
  }, 120_000);

  it('every escape is refused, through trace query and trace diff --sql, and nothing on the host changes', async () => {
    const before = { host: snapshot(host), a: snapshot(a), b: snapshot(b) };
    expect(before.a.has('insns.arrows') && before.a.has('query.steps.parquet')).toBe(true);
    const diff = diffTraces(a, b, { context: 3, depth: 4, firstOnly: false });
    if ('error' in diff) throw new Error(diff.error);
    for (const [what, sql, viaDiffCli] of ESCAPES) {
      // every escape through the real `trace query`, and through the session `trace diff --sql` opens
      const runs: [string, string[]][] = [['query', ['query', a, fill(sql)]]];
      // the diff command's own path for a representative part (each spawn of `trace diff` costs seconds)
      if (viaDiffCli) runs.push(['diff', ['diff', a, b, '--sql', fill(sql)]]);
      for (const [cmd, args] of runs) {
        const r = cli(...args);
        expect(r.status, `${what} via ${cmd}: ${r.stderr}${r.stdout}`).toBe(2);
        expect(r.stdout, `${what} via ${cmd}`).toBe('');
        expect(r.stderr, `${what} via ${cmd}`).toMatch(new RegExp(`^trace ${cmd}: [^\\n]+\\n$`));
      }
      const d = await diffSql(diff, fill(sql));
      expect('error' in d ? d.error : 'answered', `${what} via diffSql`).toMatch(/^[^\n]+$/);
      expect('error' in d, `${what} via diffSql`).toBe(true);
    }
    expect(snapshot(host)).toEqual(before.host);
    expect(readFileSync(join(host, 'sentinel.csv'), 'utf8')).toBe('secret\n42\n');
    expect(readdirSync(home)).toEqual([]);
    expect(snapshot(a)).toEqual(before.a);
    expect(snapshot(b)).toEqual(before.b);
    // the trace still answers as before
    const after = cli('query', a, 'select count(*) n from insns', '--format', 'csv');
    expect(after.stdout).toMatch(/^n\n[1-9]\d*\n$/);
  }, 1_200_000);

  it('--output writes CSV, JSON and Parquet with the same rows; bad output paths are refused before SQL runs', async () => {
    const sql = "select seq, rip, mnemonic, bytes, faulted from insns where seq < 50 order by seq";
    const out = join(host, 'out');
    mkdirSync(out, { recursive: true });
    for (const f of ['csv', 'json', 'parquet']) {
      const r = cli('query', a, sql, '--output', join(out, `r.${f}`));
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toBe(`trace query: wrote 50 rows to ${join(out, `r.${f}`)}\n`);
    }
    const stdoutCsv = cli('query', a, sql, '--format', 'csv').stdout;
    expect(readFileSync(join(out, 'r.csv'), 'utf8')).toBe(stdoutCsv);
    const json = JSON.parse(readFileSync(join(out, 'r.json'), 'utf8')) as { seq: number; mnemonic: string }[];
    expect(json.length).toBe(50);
    // an independent DuckDB (not sandboxed) reads the Parquet file back: same rows as the CSV
    const instance = await DuckDBInstance.create(':memory:');
    const con = await instance.connect();
    try {
      const p = await con.runAndReadAll(`select seq, rip, mnemonic, bytes, faulted from '${join(out, 'r.parquet')}' order by seq`);
      expect(p.columnTypes().map(String)).toEqual(['UBIGINT', 'UBIGINT', 'VARCHAR', 'BLOB', 'BOOLEAN']);
      const rows = p.getRows();
      expect(rows.map((x) => x[0])).toEqual(json.map((x) => BigInt(x.seq)));
      expect(rows.map((x) => x[2])).toEqual(json.map((x) => x.mnemonic));
    } finally {
      con.closeSync();
      instance.closeSync();
    }
    // diff --sql writes the same way
    const d = cli('diff', a, b, '--sql', 'select count(*) n from a.insns', '--output', join(out, 'd.csv'));
    expect(d.status).toBe(0); // identical runs
    expect(readFileSync(join(out, 'd.csv'), 'utf8')).toMatch(/^n\n[1-9]\d*\n$/);
    // refused before any SQL runs: inside the trace, a directory, a missing directory, no format, parquet to stdout
    const beforeA = snapshot(a);
    for (const [args, msg] of [
      [['--output', join(a, 'insns.arrows'), '--format', 'csv'], /refusing to write inside the trace directory/],
      [['--output', out, '--format', 'csv'], /is not a regular file/],
      [['--output', join(host, 'nowhere', 'x.csv')], /no such directory/],
      [['--output', join(out, 'x.txt')], /add --format/],
      [['--format', 'parquet'], /--format parquet writes a file/],
    ] as [string[], RegExp][]) {
      const r = cli('query', a, sql, ...args);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr.split('\n').length).toBe(2);
    }
    expect(snapshot(a)).toEqual(beforeA);
    expect(statSync(out).isDirectory()).toBe(true);
  }, 600_000);
});
