import { parseSeed } from '../cli/parse-seed.js';
import { Args, Flags } from '@oclif/core';
import { cpuFlag, cpuFlagLevel } from '../cli/cpu-flag.js';
import { TraceCommand } from '../cli/trace-command.js';
import { writeSync } from 'node:fs';
import { runProgram, unsupportedLine } from '../guest/run-program.js';
import { checkInputFile } from '../cli/check-paths.js';
import { splitGuestArgv } from '../cli/guest-argv.js';

export default class Run extends TraceCommand {
  static override description = 'Run a Linux x86-64 program (static or dynamically linked) on the emulated machine, without recording.\n' +
    'The guest\'s exit status becomes the tool\'s; a problem with the command line (an image that is not a regular file, ' +
    'a missing --root or --stdin) exits with status 2 before the guest starts.';

  static override examples = [
    '<%= config.bin %> run guests/bin/hello-musl',
    '<%= config.bin %> run guests/bin/compute-musl -- 5000',
    '<%= config.bin %> run --env A=1 --env B=2 guests/bin/args-musl -- --not-a-flag',
    '<%= config.bin %> run guests/bin/readfile-musl --root guests/root -- data/input.txt',
    '<%= config.bin %> run /bin/busybox --stdin notes.txt -- sort',
    '<%= config.bin %> run /usr/bin/python3 -- -c \'print(6 * 7)\'',
    '<%= config.bin %> run --cpu x86-64-v3 guests/bin/hello-musl',
    '<%= config.bin %> run /usr/bin/sqlite3 -- /tmp/x.db "create table t(x); insert into t values (1); select * from t"   # the host\'s /tmp is unchanged',
    '<%= config.bin %> run --rw /tmp /usr/bin/sqlite3 -- /tmp/x.db "create table t(x)"   # /tmp/x.db is written on the host',
  ];

  static override strict = false;

  static override args = {
    image: Args.string({ description: 'program file (ELF64 x86-64, static or dynamically linked)', required: true }),
  };

  static override flags = {
    root: Flags.string({ description: 'host directory exposed read-only as the guest\'s / (default: the host\'s /); the guest\'s changes stay in a private copy-on-write overlay' }),
    rw: Flags.string({ description: 'host directory (inside the root) the guest writes through to instead of the overlay (repeatable)', multiple: true, multipleNonGreedy: true }),
    env: Flags.string({
      description: 'environment variable K=V (repeatable; replaces the small default environment)', multiple: true, multipleNonGreedy: true,
    }),
    stdin: Flags.string({ description: 'file to use as the guest\'s stdin' }),
    chaos: Flags.string({ description: 'chaos-mode scheduler with this seed (a 64-bit integer): random quanta (checked at system calls) and task order, so that races between threads and processes show up; the same seed gives the same schedule' }),
    strict: Flags.boolean({ description: 'stop the guest (status 2) at the first system call the guest kernel does not carry out as Linux would' }),
    cpu: cpuFlag,
  };

  async run(): Promise<void> {
    // Everything after the first `--` belongs to the guest verbatim (a later `--` included); only what comes before
    // it is parsed for flags.
    const { own, guestTail } = splitGuestArgv(this.argv);
    const { args, flags, argv } = await this.parse(Run, own);
    const rest = [...(argv as string[]).slice(1), ...guestTail];
    const bad = checkInputFile(args.image);
    if (bad !== undefined) {
      writeSync(2, `trace run: ${bad}\n`);
      process.exit(2);
    }
    const chaos = flags.chaos === undefined ? undefined : parseSeed(flags.chaos);
    if (typeof chaos === 'object') {
      writeSync(2, `trace run: --chaos: ${chaos.error}\n`);
      process.exit(2);
    }
    const res = runProgram({ image: args.image, args: rest, env: flags.env, root: flags.root, rw: flags.rw, stdinFile: flags.stdin, strict: flags.strict, cpu: cpuFlagLevel(flags.cpu), chaos });
    if ('error' in res) {
      writeSync(2, `trace run: ${res.error}\n`);
      process.exit(2);
    }
    if (res.message) writeSync(2, `${res.message}\n`);
    const unsupported = unsupportedLine(res.unsupportedSyscalls);
    if (unsupported !== undefined) writeSync(2, `${unsupported}\n`);
    process.exit(res.status);
  }
}
