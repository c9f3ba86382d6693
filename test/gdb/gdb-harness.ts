// Runs the real gdb in batch mode on a program natively and against `trace gdbserver --stdio` on a recording of
// the same program, and normalises what gdb prints for its own use (process ids, stack addresses).
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { record } from '../../src/recorder/record.js';
import { ROOT } from '../helpers/run-both.js';
import { haveTool } from '../native/native-tools.js';
import { SPAWN_TIMEOUT_MS } from '../helpers/slow-machine.js';
import { fixedRandom } from '../replayer/recordings.js';
import { DEFAULT_ENV } from '../../src/guest/run-program.js';

const BIN = resolve('bin/run.js');

/** Why the gdb tests cannot run here, or undefined. */
export function gdbUnavailable(): string | undefined {
  if (!haveTool('gdb')) return 'gdb is not installed (Debian package gdb)';
  if (!haveTool('gcc')) return 'gcc is not installed';
  return undefined;
}

/** Compile test/gdb/sample.c (static, with debug info) with musl-gcc if present, else gcc. */
export function buildSample(opt: '-O0' | '-O2'): string {
  const dir = mkdtempSync(join(tmpdir(), 'itrace-gdb-'));
  const out = join(dir, `sample${opt}`);
  const cc = haveTool('musl-gcc') ? 'musl-gcc' : 'gcc';
  execFileSync(cc, ['-g', opt, '-static', '-fno-stack-protector', '-o', out, resolve('test/gdb/sample.c')], { stdio: ['ignore', 'ignore', 'pipe'] });
  return out;
}

/** Record a program (no arguments) into a fresh trace directory. */
export function recordProgram(image: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'itrace-gdbtrace-')), 't');
  const sink = openSync('/dev/null', 'w');
  try {
    const s = record({ image, args: [], root: ROOT, random: fixedRandom, stdout: sink, stderr: sink, out: dir });
    if ('error' in s) throw new Error(s.error);
  } finally {
    closeSync(sink);
  }
  return dir;
}

/** Marker printed before the commands whose output is compared. */
const MARK = '=== commands ===';

/** Run gdb in batch mode; returns what it printed after the setup (stdout and stderr, in order). */
function gdb(exe: string, setup: string[], commands: string[]): string {
  const args = ['-batch', '-nx', '-iex', 'set remotetimeout 600', '-iex', 'set width 0', '-iex', 'set height 0', '-iex', 'set style enabled off'];
  for (const c of setup) args.push('-ex', c);
  args.push('-ex', `echo ${MARK}\\n`);
  for (const c of commands) args.push('-ex', c);
  args.push(exe);
  // stdout and stderr into one file, so their lines keep their order (gdb prints monitor output on stderr)
  const file = join(mkdtempSync(join(tmpdir(), 'itrace-gdbout-')), 'out'), fd = openSync(file, 'w');
  try {
    spawnSync('gdb', args, { stdio: ['ignore', fd, fd], timeout: SPAWN_TIMEOUT_MS });
  } finally {
    closeSync(fd);
  }
  const text = readFileSync(file, 'utf8');
  const at = text.indexOf(MARK);
  if (at < 0) throw new Error(`gdb did not get through its setup:\n${text}`);
  return text.slice(at + MARK.length + 1);
}

/** gdb on the program itself: `commands` run after stopping at the entry point (`starti`). */
export function gdbNative(exe: string, commands: string[]): string {
  // the recording's environment (not the test runner's), so the initial stack, and what is computed from stack
  // addresses (flags after `sub rsp`), is the same natively
  const env = ['unset environment', ...DEFAULT_ENV.map((e) => `set environment ${e}`)];
  return gdb(exe, ['set startup-with-shell off', 'set disable-randomization on', ...env, 'starti'], commands);
}

/** gdb against the recording (positioned at the first user-mode step, the entry point). */
export function gdbTrace(exe: string, trace: string, commands: string[], server: string[] = []): string {
  return gdb(exe, [`target remote | ${process.execPath} ${BIN} gdbserver --stdio ${[...server, trace].join(' ')}`], commands);
}

/** What differs between two runs for reasons outside the program: process ids, the remote target's name, stack
 * addresses (the initial stack holds a different environment), gdb's warnings. */
export function normalise(text: string): string {
  return text.split('\n')
    .filter((l) => !l.startsWith('warning:'))
    .join('\n')
    .replace(/\(process \d+\)|\(Remote target\)/g, '(PROCESS)')
    // gdb's own teardown at the end of a batch session: it detaches from a remote target
    .replace(/\[Inferior \d+ \(PROCESS\) detached\]\n?$/, '')
    .replace(/0x00007ff[0-9a-f]{9}|0x7ff[0-9a-f]{9}|\b1407[0-9]{11}\b/g, 'STACK');
}

/** The 1-based line of sample.c holding `marker`. */
export function line(marker: string): number {
  const lines = readFileSync(resolve('test/gdb/sample.c'), 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes(`/* ${marker} */`));
  if (i < 0) throw new Error(`no ${marker} in sample.c`);
  return i + 1;
}
