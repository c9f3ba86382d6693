import { Args, Flags } from '@oclif/core';
import { cpuFlag, cpuFlagLevel } from '../cli/cpu-flag.js';
import { TraceCommand } from '../cli/trace-command.js';
import { statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from '../guest/seeded-random.js';
import { defaultTraceDir, RecordControl, recordAsync, RecordSummary } from '../recorder/record.js';
import { checkInputFile, checkOutputFile, makeOutputDir, removeCreated } from '../cli/check-paths.js';
import { unsupportedLine } from '../guest/run-program.js';
import { splitGuestArgv } from '../cli/guest-argv.js';
import { parseSeed } from '../cli/parse-seed.js';

const n = (x: number): string => x.toLocaleString('en-US');

function mb(bytes: number): string {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(1)} kB`;
}

/** The summary block printed on stderr. */
export function formatSummary(s: RecordSummary): string {
  return [
    `trace record: ${s.trace}`,
    `  steps          ${n(s.steps)} (user ${n(s.userSteps)}, kernel ${n(s.kernelSteps)})`,
    `  ring switches  ${n(s.ringSwitches)}`,
    `  page faults    ${n(s.pageFaults)}`,
    `  system calls   ${n(s.syscalls)}`,
    `  wall time      ${s.seconds.toFixed(2)} s (${n(Math.round(s.steps / Math.max(s.seconds, 1e-9)))} steps/s)`,
    `  trace size     ${mb(s.bytes)} (${(s.bytes / Math.max(s.steps, 1)).toFixed(1)} bytes/step)`,
    `  exit status    ${s.exitStatus ?? '-'}`,
  ].join('\n') + '\n';
}

const isDirectory = (p: string): boolean => {
  try { return statSync(p).isDirectory(); } catch { return false; }
};

export default class Record extends TraceCommand {
  static override description = 'Record a Linux x86-64 program (static or dynamically linked) instruction by instruction into a trace directory.\n' +
    'Every step (instruction, REP iteration, faulting attempt), ring switch, page fault and system call is written as ' +
    'Apache Arrow tables. The guest\'s stdout and stderr pass through and its exit status becomes the tool\'s.\n' +
    'SIGINT (Ctrl-C) or SIGTERM stops the guest at the next sync point (every 262,144 steps), writes every table up to ' +
    'that step and exits with status 130 (SIGINT) or 143 (SIGTERM); an internal error or a full disk exits with 70; ' +
    'a problem with the command line (an image that is not a regular file, an output directory that cannot be created, ' +
    'a --summary-json path that cannot be written, a bad --seed) exits with status 2 before anything runs.';

  static override examples = [
    '<%= config.bin %> record',
    '<%= config.bin %> record guests/bin/compute-musl -o traces/compute -- 500',
    '<%= config.bin %> record --max-steps 100000 --summary-json summary.json /bin/busybox -- sha256sum',
    '<%= config.bin %> record guests/bin/readfile-musl --root guests/root -- data/input.txt',
    '<%= config.bin %> record --seed 1 -o traces/a guests/bin/compute-musl -- 500   # repeatable: diff against another --seed 1 run',
    '<%= config.bin %> record /usr/bin/sqlite3 -- /tmp/x.db "create table t(x); insert into t values (1); select * from t"   # the host\'s /tmp is unchanged',
    '<%= config.bin %> record --rw /tmp /usr/bin/sqlite3 -- /tmp/x.db "create table t(x)"   # /tmp/x.db is written on the host',
  ];

  static override strict = false;

  static override args = {
    image: Args.string({ description: 'program file (ELF64 x86-64, static or dynamically linked); default: the bundled compute sample' }),
  };

  static override flags = {
    out: Flags.string({ char: 'o', description: 'trace directory (default traces/<image>-<n>)' }),
    root: Flags.string({ description: 'host directory exposed read-only as the guest\'s / (default: the host\'s /); the guest\'s changes stay in a private copy-on-write overlay' }),
    rw: Flags.string({ description: 'host directory (inside the root) the guest writes through to instead of the overlay (repeatable)', multiple: true, multipleNonGreedy: true }),
    env: Flags.string({ description: 'environment variable K=V (repeatable; replaces the default environment)', multiple: true, multipleNonGreedy: true }),
    stdin: Flags.string({ description: 'file to use as the guest\'s stdin' }),
    'max-steps': Flags.integer({ description: 'stop cleanly after this many steps (the trace stays valid)', min: 1 }),
    'checkpoint-every': Flags.integer({ description: 'steps between full-state checkpoints', default: 1_000_000, min: 1000 }),
    'summary-json': Flags.string({ description: 'also write the summary as JSON to this file' }),
    seed: Flags.string({ description: 'make the random bytes the guest receives (AT_RANDOM, getrandom) repeatable: two recordings with the same seed and inputs are identical (a 64-bit integer, decimal or 0x hex)' }),
    chaos: Flags.string({ description: 'chaos-mode scheduler with this seed (a 64-bit integer): random quanta (checked at system calls) and task order, so that races between threads and processes show up; the same seed gives the same schedule' }),
    strict: Flags.boolean({ description: 'stop the guest (status 2) at the first system call the guest kernel does not carry out as Linux would; the trace ends there' }),
    cpu: cpuFlag,
  };

  async run(): Promise<void> {
    const { own, guestTail } = splitGuestArgv(this.argv);
    const { args, flags, argv } = await this.parse(Record, own);
    const image = args.image ?? join(this.config.root, 'guests/bin/compute-musl');
    const guestArgs = [...(argv as string[]).slice(args.image ? 1 : 0), ...guestTail];
    const fail = (msg: string): never => { writeSync(2, `trace record: ${msg}\n`); process.exit(2); };
    const seed = flags.seed === undefined ? undefined : parseSeed(flags.seed);
    if (typeof seed === 'object') return fail(seed.error);
    const chaos = flags.chaos === undefined ? undefined : parseSeed(flags.chaos);
    if (typeof chaos === 'object') return fail(`--chaos: ${chaos.error}`);
    const bad = checkInputFile(image) ?? (flags.stdin !== undefined && isDirectory(flags.stdin) ? `--stdin ${flags.stdin}: is a directory` : undefined) ??
      (flags['summary-json'] === undefined ? undefined : checkOutputFile(flags['summary-json'], '--summary-json '));
    if (bad !== undefined) return fail(bad);
    const out = flags.out ?? defaultTraceDir(image);
    const made = makeOutputDir(out);
    if ('error' in made) return fail(made.error);
    const tty = process.stderr.isTTY === true;
    // SIGINT/SIGTERM stop the guest at the next sync point; the trace is written up to that step
    const control: RecordControl = { stop: null };
    const onSignal = (sig: string): void => { control.stop ??= sig; };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const res = await recordAsync({
      image, args: guestArgs, env: flags.env, root: flags.root, rw: flags.rw, stdinFile: flags.stdin, out,
      maxSteps: flags['max-steps'], strict: flags.strict, checkpointEvery: flags['checkpoint-every'], cpu: cpuFlagLevel(flags.cpu),
      random: seed === undefined ? undefined : seededRandom(seed), chaos,
      onProgress: tty ? (p) => process.stderr.write(`\r\x1b[Krecording: ${n(p.steps)} steps, ${n(Math.round(p.stepsPerSecond))} steps/s, ${mb(p.bytes)}`) : undefined,
    }, control);
    if (tty) process.stderr.write('\r\x1b[K');
    if ('error' in res) {
      removeCreated(made.created);
      return fail(res.error);
    }
    if (res.message) writeSync(2, `${res.message}\n`);
    const unsupported = unsupportedLine(res.unsupportedSyscalls);
    if (unsupported !== undefined) writeSync(2, `${unsupported}\n`);
    writeSync(2, formatSummary(res));
    if (flags['summary-json']) {
      const { message: _m, ...json } = res;
      try {
        writeFileSync(flags['summary-json'], JSON.stringify(json, null, 2) + '\n');
      } catch (e) {
        fail(`--summary-json ${flags['summary-json']}: cannot write (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    }
    if (res.interrupted !== undefined) process.exit(res.interrupted === 'SIGTERM' ? 143 : 130);
    process.exit(res.exitStatus ?? (res.message?.includes('--max-steps') ? 0 : res.message?.includes('--strict') ? 2 : 70));
  }
}
