// Recording rate and trace size on the compute sample, and the same program under two peers that log every
// instruction: qemu-user with one instruction per block and its exec/cpu log, and gdb's `record full`.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { record } from '../src/recorder/record.js';

/** One measured figure. */
export interface Rate {
  /** Who. */
  name: string;
  /** Instructions (steps) handled. */
  steps: number;
  /** Wall seconds. */
  seconds: number;
  /** Steps per second. */
  rate: number;
  /** Output size in bytes, where meaningful. */
  bytes?: number;
}

function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** itrace record of `image args`. */
export function benchRecord(image: string, args: string[]): Rate {
  const dir = mkdtempSync(join(tmpdir(), 'itrace-bench-'));
  const sink = openSync('/dev/null', 'w');
  try {
    const s = record({ image, args, stdout: sink, stderr: sink, out: join(dir, 't') });
    if ('error' in s) throw new Error(s.error);
    return { name: 'itrace record (full register and memory logging)', steps: s.steps, seconds: s.seconds, rate: s.steps / s.seconds, bytes: s.bytes };
  } finally {
    closeSync(sink);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** qemu-user logging every instruction with its CPU state. */
export function benchQemu(image: string, args: string[]): Rate | string {
  const qemu = which('qemu-x86_64-static') ?? which('qemu-x86_64');
  if (!qemu) return 'qemu-x86_64 not installed (Debian package qemu-user-static)';
  const dir = mkdtempSync(join(tmpdir(), 'itrace-qemu-'));
  const log = join(dir, 'log');
  try {
    // qemu >= 8.1 calls it -one-insn-per-tb; older versions (Debian 12's 7.2) -singlestep
    const help = spawnSync(qemu, ['-h'], { encoding: 'utf8' }).stdout;
    const one = help.includes('-one-insn-per-tb') ? '-one-insn-per-tb' : '-singlestep';
    const t0 = process.hrtime.bigint();
    const r = spawnSync(qemu, [one, '-d', 'exec,cpu,nochain', '-D', log, image, ...args], { stdio: 'ignore' });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) return `qemu failed (status ${r.status})`;
    const steps = Number(spawnSync('grep', ['-c', '^Trace', log], { encoding: 'utf8' }).stdout.trim());
    return { name: `qemu-x86_64 ${one} -d exec,cpu,nochain`, steps, seconds, rate: steps / seconds, bytes: statSync(log).size };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** gdb `record full` from main to exit; steps counted by gdb's own record log. */
export function benchGdb(image: string, args: string[]): Rate | string {
  const gdb = which('gdb');
  if (!gdb) return 'gdb not installed';
  const t0 = process.hrtime.bigint();
  const r = spawnSync(gdb, ['-nx', '-batch', '-ex', 'set pagination off', '-ex', 'break main', '-ex', 'run', '-ex', 'record full',
    '-ex', 'set record full insn-number-max unlimited', '-ex', 'break exit', '-ex', 'continue', '-ex', 'info record', '--args', image, ...args],
  { encoding: 'utf8', timeout: 600_000 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const m = /Log contains (\d+) instructions/.exec(r.stdout);
  if (!m) return `gdb record full did not report a log (status ${r.status})`;
  const steps = Number(m[1]);
  return { name: 'gdb record full (main to exit)', steps, seconds, rate: steps / seconds };
}

export { existsSync };
