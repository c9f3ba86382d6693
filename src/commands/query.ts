import { Args, Command, Flags } from '@oclif/core';
import { readFileSync, statSync, writeSync } from 'node:fs';
import { describeSchema } from '../query/describe-schema.js';
import { Format, FORMATS, formatResult } from '../query/format-result.js';
import { parseTraceArgs, QuerySession } from '../query/query-session.js';
import { admitTraceOrExit, allowPartialFlag } from '../cli/trace-access.js';

const isDir = (p: string): boolean => {
  try { return statSync(p).isDirectory(); } catch { return false; }
};

export default class Query extends Command {
  static override description = 'Ask SQL (DuckDB) questions of one or more traces.\n' +
    'The first query of a trace builds its index (<trace>/query.duckdb); later ones reuse it until the trace changes. ' +
    'Without SQL, prints every table, view and column with its meaning. Several traces: name them alias=DIR and ' +
    'write alias.insns, alias.calls, ...';

  static override examples = [
    '<%= config.bin %> query traces/compute',
    '<%= config.bin %> query traces/compute "select symbol, count(*) steps from insns group by all order by steps desc limit 10"',
    '<%= config.bin %> query traces/compute -f question.sql --format csv',
    '<%= config.bin %> query a=traces/run1 b=traces/run2 "select (select count(*) from a.insns) a, (select count(*) from b.insns) b"',
  ];

  static override strict = false;

  static override args = {
    trace: Args.string({ description: 'trace directory, or alias=DIR (repeatable: several traces)', required: true }),
    sql: Args.string({ description: 'SQL to run (several statements: the last one\'s result is printed)' }),
  };

  static override flags = {
    file: Flags.string({ char: 'f', description: 'read the SQL from this file' }),
    format: Flags.string({ description: 'output format', options: [...FORMATS], default: 'table' }),
    'allow-partial': allowPartialFlag,
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
      try { sql = readFileSync(flags.file, 'utf8'); } catch (e) { fail(`cannot read ${flags.file}: ${(e as Error).message}`); }
    }
    const traces = parseTraceArgs(traceArgs);
    for (const t of traces) admitTraceOrExit('query', t.dir, flags['allow-partial']);
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
      if ('error' in r) {
        writeSync(2, `${r.error}\n`);
        process.exitCode = 1;
        return;
      }
      process.stdout.write(formatResult(r, flags.format as Format));
    } finally {
      session.closeSync();
    }
  }
}

function fail(message: string): never {
  writeSync(2, `trace query: ${message}\n`);
  process.exit(2);
}
