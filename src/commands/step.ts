import { Args, Flags } from '@oclif/core';
import { TraceCommand } from '../cli/trace-command.js';
import { writeSync } from 'node:fs';
import { outputClosed } from '../cli/closed-output.js';
import { interactive } from '../replayer/interactive.js';
import { Landing } from '../replayer/navigator.js';
import { StepJson } from '../replayer/step-view.js';
import { StepSession } from '../replayer/step-session.js';
import { admitTraceOrExit, allowPartialFlag } from '../cli/trace-access.js';

export default class Step extends TraceCommand {
  static override description = 'Step through a recorded trace forwards or backwards (step in, over, out; breakpoints; watchpoints). The position persists in the trace directory.\n' +
    'With --to or --write, exit status 0 when the target was reached and 1 when the search ran into an end of the trace ' +
    '("hit": false in --json); 2 on an error.';

  static override examples = [
    '<%= config.bin %> step t.trace                 # step in',
    '<%= config.bin %> step t.trace --over --count 5',
    '<%= config.bin %> step t.trace --back --out     # back to the CALL of this function',
    '<%= config.bin %> step t.trace --to merge_sort --regs',
    '<%= config.bin %> step t.trace --at 1000 --regs all   # also x87, MMX, MXCSR, XCR0, XMM/YMM',
    '<%= config.bin %> step t.trace --back --write 0x7ffffffde000:8   # who wrote this?',
    '<%= config.bin %> step t.trace --thread 1001 --over   # in thread 1001 (a forked child)',
    '<%= config.bin %> step t.trace -i',
  ];

  static override enableJsonFlag = true;

  static override args = {
    trace: Args.string({ description: 'trace directory (written by `trace record`)', required: true }),
  };

  static override flags = {
    at: Flags.integer({ description: 'start from this step instead of the saved position (alone: just go there)', min: 0 }),
    back: Flags.boolean({ description: 'move backwards', default: false }),
    over: Flags.boolean({ description: 'step over calls, REP iterations, system calls and faults', exclusive: ['out'] }),
    out: Flags.boolean({ description: 'step out of the current function (or the kernel)', exclusive: ['over'] }),
    count: Flags.integer({ description: 'repeat the move N times', default: 1, min: 1 }),
    to: Flags.string({ description: 'run to the next (or, with --back, previous) execution of ADDRESS or SYMBOL[+OFF]' }),
    write: Flags.string({ description: 'run to the next (or previous) write to ADDR[:LEN] (a watchpoint)', exclusive: ['to'] }),
    thread: Flags.integer({ description: 'move in thread TID: first go to its next step (--back: its previous one) unless the position is one of its steps; every move stays in the position\'s thread', min: 1 }),
    regs: Flags.string({
      description: 'print the registers and flags at the landing position (`--regs` or `--regs gpr`: the general-purpose block; `--regs all`: also x87, MMX, MXCSR, XCR0 and XMM/YMM)',
      options: ['gpr', 'all'],
    }),
    mem: Flags.string({ description: 'dump memory ADDR[:LEN] at the landing position', multiple: true }),
    'allow-partial': allowPartialFlag,
    interactive: Flags.boolean({ char: 'i', description: 'open an interactive session (i, p, gu, i-, p-, gu-, g, g-, ba, r, db, q)', default: false }),
  };

  async run(): Promise<StepJson & { hit?: boolean }> {
    // `--regs` alone means `--regs gpr` (oclif has no optional flag values)
    for (let i = 0; i < this.argv.length; i++) {
      if (this.argv[i] === '--regs' && !['gpr', 'all'].includes(this.argv[i + 1] ?? '')) this.argv.splice(i + 1, 0, 'gpr');
    }
    const { args, flags } = await this.parse(Step);
    const fail = (msg: string): never => { writeSync(2, `trace step: ${msg}\n`); process.exit(2); };
    admitTraceOrExit('step', args.trace, flags['allow-partial']);
    const s = StepSession.open(args.trace, { at: flags.at });
    if ('error' in s) return fail(s.error);
    try {
      if (flags.at !== undefined) { const e = s.goto(flags.at); if (e !== undefined) fail(e.error); }
      if (flags.interactive) {
        await interactive(s, process.stdin, process.stdout);
        return s.json();
      }
      for (const m of flags.mem ?? []) { const r = s.parseRange(m, 64); if ('error' in r) fail(r.error); }
      if (flags.thread !== undefined) {
        const runs = s.index.threads, tid = flags.thread;
        if (!runs.runTid.includes(tid)) fail(`--thread ${tid}: no such thread in this trace (threads: ${[...new Set(runs.runTid)].join(', ')})`);
        if (runs.tidAt(s.position) !== tid) {
          const t = flags.back ? runs.prevOf(tid, s.position) : runs.nextOf(tid, s.position);
          if (t < 0 || t >= s.index.steps) fail(`--thread ${tid}: the thread has no step ${flags.back ? 'before' : 'after'} step ${s.position}`);
          const e = s.goto(t);
          if (e !== undefined) fail(e.error);
        }
      }
      const lines: string[] = [];
      let hit: boolean | undefined;
      const text = !this.jsonEnabled();
      const justGo = flags.at !== undefined && !flags.back && !flags.over && !flags.out && flags.to === undefined && flags.write === undefined;
      if (justGo) lines.push(s.line(s.position));
      else {
        // each landing line is printed as it is found, and the move stops once the reader of the output has gone
        const onLanding = (l: Landing): boolean => {
          if (text) process.stdout.write(`${s.line(l.seq)}\n`);
          return !outputClosed();
        };
        const r = s.move({ motion: flags.over ? 'over' : flags.out ? 'out' : 'in', back: flags.back, count: flags.count, to: flags.to, write: flags.write, onLanding });
        if ('error' in r) return fail(r.error);
        if (outputClosed()) process.exit(0);
        if (r.note !== undefined) lines.push(r.note);
        hit = r.hit;
      }
      if (flags.regs !== undefined) lines.push(...(flags.regs === 'all' ? s.allRegisters() : s.registerBlock()));
      for (const m of flags.mem ?? []) {
        const d = s.dump(m);
        if ('error' in d) return fail(d.error);
        lines.push(...d);
      }
      s.savePosition();
      if (text) for (const l of lines) this.log(l);
      if (hit === false) process.exitCode = 1;
      return hit === undefined ? s.json() : { ...s.json(), hit };
    } finally {
      s.closeSync();
    }
  }
}
