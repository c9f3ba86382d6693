import { Args, Flags } from '@oclif/core';
import { TraceCommand } from '../cli/trace-command.js';
import { writeSync } from 'node:fs';
import { admitTraceOrExit, allowPartialFlag } from '../cli/trace-access.js';
import { StepSession } from '../replayer/step-session.js';
import { closeMonitorSessions } from '../gdb/monitor.js';
import { listen, PacketLog, serveStream } from '../gdb/serve.js';
import { GdbServer } from '../gdb/server.js';

export default class Gdbserver extends TraceCommand {
  static override description = 'Serve a recorded trace to gdb over the GDB remote serial protocol, with reverse execution ' +
    '(reverse-step, reverse-continue, watchpoints backwards). gdb sees user mode only, as on Linux, unless --kernel. ' +
    'Registers and memory cannot be changed. Exit status 0 when the session ends, 2 on error.';

  static override examples = [
    '<%= config.bin %> gdbserver t.trace --port 2345     # then in gdb: target remote 127.0.0.1:2345',
    'gdb -ex "target remote | <%= config.bin %> gdbserver --stdio t.trace" guests/bin/hello-musl',
    '<%= config.bin %> gdbserver t.trace --port 2345 --kernel   # ring-0 steps too',
  ];

  static override args = {
    trace: Args.string({ description: 'trace directory (written by `trace record`)', required: true }),
  };

  static override flags = {
    port: Flags.integer({ description: 'TCP port to listen on (0: any free port, printed)', min: 0, max: 65535, exclusive: ['stdio'] }),
    stdio: Flags.boolean({ description: 'speak the protocol on stdin/stdout (for gdb\'s `target remote | COMMAND`)', default: false }),
    host: Flags.string({ description: 'address to listen on', default: '127.0.0.1' }),
    kernel: Flags.boolean({ description: 'show ring-0 steps (the guest kernel) too', default: false }),
    debug: Flags.boolean({ description: 'log every packet to stderr', default: false }),
    'allow-partial': allowPartialFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Gdbserver);
    const fail = (msg: string): never => { writeSync(2, `trace gdbserver: ${msg}\n`); process.exit(2); };
    admitTraceOrExit('gdbserver', args.trace, flags['allow-partial']);
    const s = StepSession.open(args.trace, { at: 0 });
    if ('error' in s) return fail(s.error);
    const server = new GdbServer(s, { kernel: flags.kernel });
    const log: PacketLog | undefined = flags.debug
      ? (d, b) => { writeSync(2, `${d} ${Buffer.from(b).toString('latin1').slice(0, 200)}\n`); }
      : undefined;
    if (flags.stdio) {
      await serveStream(server, process.stdin, (b) => { writeSync(1, b); }, log);
      closeMonitorSessions();
      s.closeSync();
      process.exit(0);
    }
    const net = await listen(server, flags.host, flags.port ?? 0, log).catch((e: Error) => fail(e.message));
    const addr = net.address();
    const port = typeof addr === 'object' && addr !== null ? addr.port : flags.port;
    writeSync(2, `trace gdbserver: serving ${args.trace} on ${flags.host}:${port} (in gdb: target remote ${flags.host}:${port})\n`);
  }
}
