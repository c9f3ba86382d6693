import { Args } from '@oclif/core';
import { TraceCommand } from '../cli/trace-command.js';
import { writeSync } from 'node:fs';
import { formatTraceInfo, TraceInfo, traceInfo } from '../trace/trace-info.js';

export default class Info extends TraceCommand {
  static override description = 'Describe a trace: how it was recorded, whether it is complete, and what its tables hold.';

  static override examples = [
    '<%= config.bin %> info hello.trace',
    '<%= config.bin %> info hello.trace --json',
    '<%= config.bin %> info hello.trace --json | jq .steps',
  ];

  static override enableJsonFlag = true;

  static override args = {
    trace: Args.string({ description: 'trace directory (written by `trace record`)', required: true }),
  };

  async run(): Promise<TraceInfo> {
    const { args } = await this.parse(Info);
    const info = traceInfo(args.trace);
    if ('error' in info) {
      writeSync(2, `trace info: ${info.error}\n`);
      process.exit(2);
    }
    if (!this.jsonEnabled()) for (const line of formatTraceInfo(info)) this.log(line);
    return info;
  }
}
