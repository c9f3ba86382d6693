import { Args, Flags } from '@oclif/core';
import { TraceCommand } from '../cli/trace-command.js';
import { writeSync } from 'node:fs';
import { diffSql } from '../diff/diff-sql.js';
import { diffTraces } from '../diff/diff-traces.js';
import { formatDiff } from '../diff/format-diff.js';
import { admitTraceOrExit, allowPartialFlag } from '../cli/trace-access.js';
import { formatResult } from '../query/format-result.js';
import { FORMAT_FLAG_OPTIONS, outputChoice } from '../query/output-choice.js';
import { checkOutputPath, writeResult } from '../query/write-result.js';

export default class Diff extends TraceCommand {
  static override description = 'Compare two recordings: the first step where they part and why, then where they differ after it.\n' +
    'Exit status 0 when the runs are identical, 1 when they differ, 2 on error. With --sql, both traces are attached ' +
    'to one DuckDB session as a and b beside the diff\'s own tables (diff_divergence, diff_causes, diff_regions, diff_profile, diff_syscalls); ' +
    'the SQL runs sandboxed as in `trace query` (no host files; --output FILE writes the result), and an SQL error or a ' +
    'refused statement exits with status 2.';

  static override examples = [
    '<%= config.bin %> diff traces/run1 traces/run2',
    '<%= config.bin %> diff traces/run1 traces/run2 --json',
    '<%= config.bin %> diff traces/old traces/new --limit 5',
    '<%= config.bin %> diff traces/run1 traces/run2 --sql "select * from diff_profile order by abs(steps_b - steps_a) desc limit 5"',
  ];

  static override args = {
    a: Args.string({ description: 'first trace directory (A)', required: true }),
    b: Args.string({ description: 'second trace directory (B)', required: true }),
  };

  static override flags = {
    json: Flags.boolean({ description: 'print the result as JSON' }),
    context: Flags.integer({ description: 'steps shown before and after the divergence', default: 3, min: 0 }),
    limit: Flags.integer({ description: 'rows per list (regions, profile, system calls) in the text output', default: 15, min: 1 }),
    depth: Flags.integer({ description: 'call depth used to align the runs', default: 4, min: 0 }),
    'first-only': Flags.boolean({ description: 'stop after the first divergence (no alignment or profile)' }),
    sql: Flags.string({ description: 'run SQL over a, b and the diff tables instead of printing the diff' }),
    'allow-partial': allowPartialFlag,
    format: Flags.string({ description: 'output format of --sql (table, csv, json, markdown; csv, json, parquet with --output)', options: [...FORMAT_FLAG_OPTIONS] }),
    output: Flags.string({ description: 'with --sql: write the result to this file (csv, json or parquet) instead of stdout' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Diff);
    for (const t of [args.a, args.b]) admitTraceOrExit('diff', t, flags['allow-partial']);
    const out = outputChoice(flags.format, flags.output);
    if ('error' in out) fail(out.error);
    if ('file' in out) {
      if (flags.sql === undefined) fail('--output needs --sql');
      const bad = checkOutputPath(out.file, [args.a, args.b]);
      if (bad !== undefined) fail(bad);
    }
    const r = diffTraces(args.a, args.b, { context: flags.context, depth: flags.depth, firstOnly: flags['first-only'] });
    if ('error' in r) fail(r.error);
    if (flags.sql !== undefined) {
      const q = await diffSql(r, flags.sql);
      if ('error' in q) fail(q.error);
      if ('stdout' in out) process.stdout.write(formatResult(q, out.stdout));
      else {
        const w = await writeResult(q, out.file, out.format);
        if ('error' in w) fail(w.error);
        writeSync(2, `trace diff: wrote ${w.rows} row${w.rows === 1 ? '' : 's'} to ${out.file}\n`);
      }
    } else if (flags.json) {
      process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    } else {
      process.stdout.write(formatDiff(r, flags.limit).join('\n') + '\n');
    }
    process.exitCode = r.identical ? 0 : 1;
  }
}

function fail(message: string): never {
  writeSync(2, `trace diff: ${message}\n`);
  process.exit(2);
}
