import { Args, Flags } from '@oclif/core';
import { TraceCommand } from '../cli/trace-command.js';
import { readFileSync, statSync, writeSync } from 'node:fs';
import { checkInputFile } from '../cli/check-paths.js';
import { describeSchema } from '../query/describe-schema.js';
import { formatResult } from '../query/format-result.js';
import { FORMAT_FLAG_OPTIONS, outputChoice } from '../query/output-choice.js';
import { parseTraceArgs, QuerySession } from '../query/query-session.js';
import { admitTraceOrExit, allowPartialFlag } from '../cli/trace-access.js';
import { checkOutputPath, writeResult } from '../query/write-result.js';

const isDir = (p: string): boolean => {
  try { return statSync(p).isDirectory(); } catch { return false; }
};

export default class Query extends TraceCommand {
  static override description = 'Ask SQL (DuckDB) questions of one or more traces.\n' +
    'The first query of a trace builds its index (<trace>/query.duckdb); later ones reuse it until the trace changes. ' +
    'Without SQL, prints every table, view and column with its meaning. Several traces: name them alias=DIR and ' +
    'write alias.insns, alias.calls, ...\n' +
    'The SQL runs sandboxed: it sees the traces\' tables and its own temporary tables, and cannot read or write host files ' +
    '(no COPY, ATTACH, EXPORT, INSTALL/LOAD, read_csv, glob, ...); --output FILE writes the result as CSV, JSON or Parquet. ' +
    'Exit status 0 on success, 2 on an error (a bad trace, an SQL error, SQL the sandbox refuses).';

  static override examples = [
    '<%= config.bin %> query traces/compute',
    '<%= config.bin %> query traces/compute "select symbol, count(*) steps from insns group by all order by steps desc limit 10"',
    '<%= config.bin %> query traces/compute -f question.sql --format csv',
    '<%= config.bin %> query traces/compute "select * from calls" --output calls.parquet',
    '<%= config.bin %> query traces/compute "create temp table f as select symbol, count(*) n from calls group by all; select * from f order by n desc limit 5"',
    '<%= config.bin %> query a=traces/run1 b=traces/run2 "select (select count(*) from a.insns) a, (select count(*) from b.insns) b"',
  ];

  static override strict = false;

  static override args = {
    trace: Args.string({ description: 'trace directory, or alias=DIR (repeatable: several traces)', required: true }),
    sql: Args.string({ description: 'SQL to run (several statements: the last one\'s result is printed)' }),
  };

  static override flags = {
    file: Flags.string({ char: 'f', description: 'read the SQL from this file' }),
    'allow-partial': allowPartialFlag,
    format: Flags.string({ description: 'output format (table, csv, json, markdown on stdout; csv, json, parquet with --output)', options: [...FORMAT_FLAG_OPTIONS] }),
    output: Flags.string({ char: 'o', description: 'write the result to this file (csv, json or parquet: --format or the file\'s extension) instead of stdout' }),
  };

  async run(): Promise<void> {
    const { flags, argv } = await this.parse(Query);
    const words = argv as string[];
    const traceArgs: string[] = [];
    let sql: string | undefined;
    for (const w of words) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*=(.+)$/.exec(w);
      if ((m !== null && isDir(m[1]!)) || (sql === undefined && traceArgs.length === 0) || (sql === undefined && isDir(w))) traceArgs.push(w);
      else if (sql === undefined) sql = w;
      else fail(`unexpected argument after the SQL: ${w}`);
    }
    if (flags.file !== undefined) {
      if (sql !== undefined) fail('give the SQL either as an argument or with -f, not both');
      const bad = checkInputFile(flags.file, '-f ');
      if (bad !== undefined) fail(bad);
      sql = readFileSync(flags.file, 'utf8');
    }
    const out = outputChoice(flags.format, flags.output);
    if ('error' in out) fail(out.error);
    const traces = parseTraceArgs(traceArgs);
    for (const t of traces) admitTraceOrExit('query', t.dir, flags['allow-partial']);
    if ('file' in out) {
      if (sql === undefined) fail('--output needs SQL');
      const bad = checkOutputPath(out.file, traces.map((t) => t.dir));
      if (bad !== undefined) fail(bad);
    }
    const session = await QuerySession.open(traces);
    if ('error' in session) fail(session.error);
    try {
      if (sql === undefined) {
        const lines = await describeSchema(session);
        if ('error' in lines) fail(lines.error);
        process.stdout.write(lines.join('\n') + '\n');
        return;
      }
      const r = await session.run(sql);
      if ('error' in r) fail(r.error);
      if ('stdout' in out) {
        process.stdout.write(formatResult(r, out.stdout));
        return;
      }
      const w = await writeResult(r, out.file, out.format);
      if ('error' in w) fail(w.error);
      writeSync(2, `trace query: wrote ${w.rows} row${w.rows === 1 ? '' : 's'} to ${out.file}\n`);
    } finally {
      session.closeSync();
    }
  }
}

function fail(message: string): never {
  writeSync(2, `trace query: ${message}\n`);
  process.exit(2);
}
