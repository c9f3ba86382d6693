import { Args, Flags } from '@oclif/core';
import { TraceCommand } from '../cli/trace-command.js';
import { writeSync } from 'node:fs';
import { formatVerify, verifyTrace, VerifyResult } from '../replayer/verify.js';
import { TraceReader } from '../trace/trace-reader.js';
import { admitTraceOrExit, allowPartialFlag } from '../cli/trace-access.js';

export default class Replay extends TraceCommand {
  static override description = 'Re-execute a trace from its first checkpoint with the recorded inputs and check every step against the recorded rows.';

  static override examples = [
    '<%= config.bin %> replay t.trace --verify',
    '<%= config.bin %> replay t.trace --verify --json',
  ];

  static override enableJsonFlag = true;

  static override args = {
    trace: Args.string({ description: 'trace directory (written by `trace record`)', required: true }),
  };

  static override flags = {
    verify: Flags.boolean({ description: 'check every step (address, ring, registers, memory accesses) against the trace', default: false }),
    limit: Flags.integer({ description: 'stop after this many steps', min: 1 }),
    'allow-partial': allowPartialFlag,
  };

  async run(): Promise<VerifyResult> {
    const { args, flags } = await this.parse(Replay);
    const fail = (msg: string): never => { writeSync(2, `trace replay: ${msg}\n`); process.exit(2); };
    if (!flags.verify) fail('only --verify is implemented: trace replay TRACE --verify');
    admitTraceOrExit('replay', args.trace, flags['allow-partial']);
    const reader = TraceReader.open(args.trace);
    if ('error' in reader) return fail(reader.error);
    const r = verifyTrace(reader, { limit: flags.limit });
    if ('error' in r) return fail(r.error);
    if (!this.jsonEnabled()) this.log(formatVerify(r));
    if (!r.ok) process.exitCode = 1;
    return r;
  }
}
