import { Args, Flags } from '@oclif/core';
import { TraceCommand } from '../cli/trace-command.js';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findGdb, gdbArguments } from '../gdb/gdb-launch.js';

export default class Gdb extends TraceCommand {
  static override description = 'Debug a recording with gdb: starts `trace gdbserver --stdio` and stock gdb connected to it ' +
    'with the recorded executable, so `reverse-step`, `reverse-continue` and watchpoints backwards work at source level. ' +
    'Arguments after -- go to gdb. Exit status: gdb\'s, or 2 if gdb is not installed or the trace cannot be opened.';

  static override examples = [
    '<%= config.bin %> gdb t.trace',
    '<%= config.bin %> gdb t.trace -- -ex "break main" -ex continue',
    '<%= config.bin %> gdb t.trace --kernel     # ring-0 steps too',
  ];

  static override strict = false;

  static override args = {
    trace: Args.string({ description: 'trace directory (written by `trace record`)', required: true }),
  };

  static override flags = {
    kernel: Flags.boolean({ description: 'show ring-0 steps (the guest kernel) too', default: false }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Gdb);
    const fail = (msg: string): never => { writeSync(2, `trace gdb: ${msg}\n`); process.exit(2); };
    const gdb = findGdb();
    if (gdb === undefined) return fail('gdb is not installed (Debian: apt-get install gdb), or $GDB does not run');
    let image: string | undefined;
    try {
      const meta = JSON.parse(readFileSync(join(args.trace, 'meta.json'), 'utf8')) as { image?: unknown };
      if (typeof meta.image === 'string') image = resolve(meta.image);
    } catch {
      return fail(`${args.trace} is not a trace: no readable meta.json`);
    }
    // everything after `--`, verbatim (oclif's parser would read gdb's own options)
    const dash = process.argv.indexOf('--');
    const extra = dash >= 0 ? process.argv.slice(dash + 1) : [];
    if (image !== undefined && !existsSync(image)) writeSync(2, `trace gdb: the recorded executable ${image} is not there; name it after -- for symbols\n`);
    const server = [process.execPath, process.argv[1]!, 'gdbserver', '--stdio', ...(flags.kernel ? ['--kernel'] : []), resolve(args.trace)];
    const r = spawnSync(gdb, gdbArguments(server, image !== undefined && existsSync(image) ? image : undefined, extra), { stdio: 'inherit' });
    if (r.error !== undefined) return fail(r.error.message);
    process.exit(r.status ?? 2);
  }
}
