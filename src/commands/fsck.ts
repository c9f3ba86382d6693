import { Args, Flags } from '@oclif/core';
import { TraceCommand } from '../cli/trace-command.js';
import { writeSync } from 'node:fs';
import { formatFsck, fsck, FsckResult, repairTrace } from '../trace/fsck.js';

export default class Fsck extends TraceCommand {
  static override description = 'Check a trace: every checksum (tables, checkpoints, meta.json, symbols.json) and that the rows of every ' +
    'table agree with insns. With --repair, cut every table back to the last step all of them hold completely, keeping the ' +
    'original files in TRACE/backup-<time>/.\nExit status: 0 intact (or an intact interrupted recording), 1 damaged, 2 error.';

  static override examples = [
    '<%= config.bin %> fsck hello.trace',
    '<%= config.bin %> fsck hello.trace --repair',
    '<%= config.bin %> fsck hello.trace --json | jq .problems',
  ];

  static override enableJsonFlag = true;

  static override args = {
    trace: Args.string({ description: 'trace directory (written by `trace record`)', required: true }),
  };

  static override flags = {
    repair: Flags.boolean({ description: 'cut every table back to the consistent prefix (the originals go to TRACE/backup-<time>/)', default: false }),
  };

  async run(): Promise<FsckResult> {
    const { args, flags } = await this.parse(Fsck);
    const fail = (msg: string): never => { writeSync(2, `trace fsck: ${msg}\n`); process.exit(2); };
    let r = fsck(args.trace);
    if ('error' in r) return fail(r.error);
    if (flags.repair && r.state !== 'intact') {
      const fixed = repairTrace(args.trace, r);
      if ('error' in fixed) return fail(fixed.error);
      r = fixed;
    }
    if (!this.jsonEnabled()) for (const line of formatFsck(r)) this.log(line);
    if (r.state === 'damaged') process.exitCode = 1;
    return r;
  }
}
