// `trace index` (this file is commands/index/index.ts because oclif reads commands/index.ts as the root command).
import { Args } from '@oclif/core';
import { TraceCommand } from '../../cli/trace-command.js';
import { writeSync } from 'node:fs';
import { admitTraceOrExit, allowPartialFlag } from '../../cli/trace-access.js';
import { buildIndex } from '../../query/build-index.js';

const n = (x: number): string => x.toLocaleString('en-US');

export default class Index extends TraceCommand {
  static override description = 'Build the SQL index of a trace ahead of time (<trace>/query.duckdb), with a progress bar.\n' +
    '`trace query` builds it on first use otherwise; it is rebuilt whenever the trace\'s files change.';

  static override examples = ['<%= config.bin %> index traces/compute'];

  static override args = {
    trace: Args.string({ description: 'trace directory (written by `trace record`)', required: true }),
  };

  static override flags = {
    'allow-partial': allowPartialFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Index);
    admitTraceOrExit('index', args.trace, flags['allow-partial']);
    const tty = process.stderr.isTTY === true;
    let last = 0;
    const bar = (done: number, total: number): void => {
      const now = performance.now();
      if (!tty || (now - last < 100 && done < total)) return;
      last = now;
      const frac = total > 0 ? done / total : 1;
      const width = 30, fill = Math.round(frac * width);
      process.stderr.write(`\r  [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${(frac * 100).toFixed(0).padStart(3)}%  ${n(done)} / ${n(total)} rows`);
    };
    const r = await buildIndex(args.trace, { progress: bar });
    if (tty) process.stderr.write('\n');
    if ('error' in r) {
      writeSync(2, `trace index: ${r.error}\n`);
      process.exit(2);
    }
    this.log(`trace index: ${r.path}`);
    this.log(`  rows     ${n(r.rows)} (steps, regs, mem) copied in ${r.copySeconds.toFixed(2)} s = ${n(Math.round(r.rows / r.copySeconds))} rows/s`);
    this.log(`  calls    ${n(r.calls)} frames`);
    this.log(`  total    ${r.seconds.toFixed(2)} s = ${n(Math.round(r.rows / r.seconds))} rows/s`);
  }
}
