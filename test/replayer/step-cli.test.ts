// `trace step` through bin/run.js (position persisted across invocations, --json keys, --regs block, errors),
// `trace replay --verify` through bin/run.js, and the interactive verbs through runCommand.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { HELP, runCommand } from '../../src/replayer/interactive.js';
import { StepSession } from '../../src/replayer/step-session.js';
import { recordSample } from './recordings.js';
import { SLOW_TEST_MS, SPAWN_TIMEOUT_MS } from '../helpers/slow-machine.js';

const BIN = resolve('bin/run.js');
const built = existsSync(resolve('dist/src/commands/step.js'));
const run = (...args: string[]): { out: string; err: string; status: number | null } => {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: SPAWN_TIMEOUT_MS });
  return { out: r.stdout, err: r.stderr, status: r.status };
};

describe('trace step command', () => {
  let dir: string;
  beforeAll(() => { dir = recordSample('hello-musl', []).dir; });

  it.skipIf(!built)('walks on from the saved position and prints HyperDbg-style lines', () => {
    const a = run('step', dir, '--at', '0');
    expect(a.status).toBe(0);
    expect(a.out).toMatch(/^\s+0 {2}r0 {2}ffffffff`80100000 {2}48 cf\s+iretq\s+<ret_to_user>/);
    const b = run('step', dir, '--count', '2');
    expect(b.out.trim().split('\n').map((l) => Number(l.trim().split(/\s+/)[0]))).toEqual([1, 2]);
    const c = run('step', dir, '--back', '--json');
    const j = JSON.parse(c.out) as Record<string, unknown>;
    expect(j.seq).toBe(1);
    for (const k of ['seq', 'rip', 'ring', 'length', 'bytes', 'disassembly', 'symbol', 'registers', 'flags']) expect(j).toHaveProperty(k);
    expect(Object.keys(j.flags as object).sort()).toEqual(['af', 'cf', 'df', 'if', 'of', 'pf', 'sf', 'zf']);
    const d = run('step', dir, '--to', 'main', '--regs', '--mem', 'main:16');
    expect(d.out).toMatch(/<main>/);
    expect(d.out).toMatch(/RAX=[0-9a-f]{16} RBX=/);
    expect(d.out).toMatch(/OF \d {2}DF \d {2}IF \d/);
    expect(d.out).toMatch(/00000000`[0-9a-f]{8} {2}([0-9a-f]{2} ){15}[0-9a-f]{2}/);
    const e = run('step', dir, '--to', 'nosuchthing');
    expect(e.status).toBe(2);
    expect(e.err).toBe('trace step: unknown symbol nosuchthing\n');
    expect(run('step', join(dir, 'missing')).err).toMatch(/^trace step: .*no such directory/);
    const v = run('replay', dir, '--verify');
    expect(v.out).toMatch(/^verified \d[\d,]* steps/);
  }, SLOW_TEST_MS);

  it('runs the interactive verbs', () => {
    const s = StepSession.open(dir, { snapshotEvery: 512 });
    if ('error' in s) throw new Error(s.error);
    s.goto(0);
    expect(runCommand(s, 'i 3')!.length).toBe(3);
    expect(s.position).toBe(3);
    runCommand(s, 'i-');
    expect(s.position).toBe(2);
    expect(runCommand(s, 'g main')![0]).toMatch(/<main>/);
    const m = s.position;
    runCommand(s, 'p');
    runCommand(s, 'p-');
    expect(s.position).toBe(m);
    expect(runCommand(s, 'r')!.join('\n')).toMatch(/RIP=/);
    expect(runCommand(s, 'db main:8')![0]).toMatch(/^00000000`/);
    runCommand(s, 'gu-');
    expect(s.position).toBe(m - 1); // the CALL of main
    runCommand(s, '!at ' + String(m));
    runCommand(s, 'gu');
    expect(s.position).toBeGreaterThan(m);
    expect(runCommand(s, 'g- _start')!.at(-1)).toMatch(/start of the trace|_start/);
    expect(runCommand(s, 'ba 0x10:8')!.at(-1)).toMatch(/end of the trace/);
    expect(runCommand(s, 'help')).toBe(HELP);
    expect(runCommand(s, 'bogus')).toEqual(['unknown command bogus (help lists them)']);
    expect(runCommand(s, 'q')).toBeNull();
    s.closeSync();
  });
});
