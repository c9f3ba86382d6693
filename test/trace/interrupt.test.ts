// Crash-consistent recording with a real `trace record` child. SIGINT: the guest stops at the next sync point,
// every table is written up to that step, meta.json says "interrupted at step N (SIGINT)", the exit status is 130,
// and the trace is whole and intact. SIGKILL: the tables end wherever the writer was, readers cut every table to the
// last sync point (no row of a later step is served), info and fsck say so, and step, query and replay --verify
// work on that prefix (replay --verify re-executes every step of it and checks every row: an independent check that
// the prefix is right, not just short).
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fsck } from '../../src/trace/fsck.js';
import { Kind, readManifest } from '../../src/trace/manifest.js';
import { TABLES } from '../../src/trace/schema.js';
import { checkTrace } from '../../src/trace/trace-check.js';
import { traceInfo } from '../../src/trace/trace-info.js';
import { TraceReader } from '../../src/trace/trace-reader.js';

const RUN = resolve('bin/run.js');

beforeAll(() => {
  const r = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { encoding: 'utf8' });
  if (!existsSync(resolve('dist/src/commands/record.js'))) throw new Error(`build failed: ${r.stdout}${r.stderr}`);
}, 300_000);

/** Start recording a long run; resolves once the manifest holds `syncs` sync points. */
async function startRecording(dir: string, syncs: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [RUN, 'record', resolve('guests/bin/compute-musl'), '--seed', '1', '-o', dir, '--', '20000'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const started = Date.now();
  while (Date.now() - started < 240_000) {
    await new Promise((r) => setTimeout(r, 50));
    const m = readManifest(dir, TABLES.length);
    if (m !== null && m.records.filter((x) => x.kind === Kind.SYNC).length >= syncs) return child;
  }
  child.kill('SIGKILL');
  throw new Error(`no ${syncs} sync points after 240 s`);
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  return new Promise((r) => child.on('exit', (code, signal) => r({ code, signal, stderr })));
}

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [RUN, ...args], { encoding: 'utf8', timeout: 300_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The largest seq of a table's served rows (-1 if none). */
function maxSeq(rd: TraceReader, name: 'regs' | 'mem' | 'events' | 'inputs'): number {
  let m = -1;
  for (const b of rd.stream(name)) {
    const w = b.words('seq');
    for (let i = 0; i < b.length; i++) m = Math.max(m, w[2 * i]! + w[2 * i + 1]! * 2 ** 32);
  }
  return m;
}

/** step, query and replay --verify on a trace of `n` steps; `note` is what stderr must say (or not). */
function commandsWork(dir: string, n: number, note: RegExp | null): void {
  const step = cli(['step', dir, '--at', String(n - 1), '--regs']);
  expect(step.status, step.stderr).toBe(0);
  expect(step.stdout).toMatch(new RegExp(`^ *${n - 1} `, 'm'));
  expect(step.stdout).toMatch(/^RAX=/m);
  if (note !== null) expect(step.stderr).toMatch(note); else expect(step.stderr).toBe('');
  expect(cli(['step', dir, '--at', String(n)]).status).toBe(2); // past the prefix
  const q = cli(['query', dir, 'select count(*) as n, max(seq) as last from insns']);
  expect(q.status, q.stderr).toBe(0);
  expect(q.stdout).toMatch(new RegExp(`^\\s*${n}\\s+${n - 1}\\s*$`, 'm'));
  const q2 = cli(['query', dir, 'select (select max(seq) from regs) < ' + n + ' and (select max(seq) from mem) < ' + n + ' as inside']);
  expect(q2.stdout).toMatch(/true/);
  const v = cli(['replay', dir, '--verify']);
  expect(v.status, v.stderr).toBe(0);
  expect(v.stdout).toMatch(new RegExp(`^verified ${n.toLocaleString('en-US')} steps`));
}

describe('trace record interrupted', () => {
  it('SIGINT: stops at a step boundary, writes every table up to it, says so, exit status 130', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'itrace-int-')), 't');
    const child = await startRecording(dir, 1);
    const done = exitOf(child);
    child.kill('SIGINT');
    const { code, stderr } = await done;
    expect(code, stderr).toBe(130);
    const m = /interrupted at step (\d+) \(SIGINT\)/.exec(stderr);
    expect(m, stderr).not.toBeNull();
    const n = Number(m![1]);
    const c = checkTrace(dir, true, true);
    if ('error' in c) throw new Error(c.error);
    expect(c.damage).toEqual([]);
    expect(c.whole).toBe(true);
    expect(c.steps).toBe(n);
    expect(c.meta).toMatchObject({ complete: true, steps: n, stopped: `interrupted at step ${n} (SIGINT)` });
    for (const t of c.tables) expect([t.name, t.status, t.completeThrough, t.prefixRows]).toEqual([t.name, 'ok', n, t.rows]);
    const f = fsck(dir);
    if ('error' in f) throw new Error(f.error);
    expect([f.state, f.problems]).toEqual(['intact', []]);
    const info = traceInfo(dir);
    if ('error' in info) throw new Error(info.error);
    expect([info.steps, info.usable.state]).toEqual([n, 'complete']);
    const rd = TraceReader.open(dir);
    if ('error' in rd) throw new Error(rd.error);
    for (const t of ['regs', 'mem', 'events'] as const) expect(maxSeq(rd, t)).toBeLessThan(n);
    expect(cli(['info', dir]).stdout).toContain(`(interrupted at step ${n} (SIGINT))`);
    commandsWork(dir, n, null);
  }, 900_000);

  it('SIGKILL: readers cut every table to the last sync point; info, fsck, step, query and replay use that prefix', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'itrace-kill9-')), 't');
    const child = await startRecording(dir, 2);
    const done = exitOf(child);
    child.kill('SIGKILL');
    const { signal } = await done;
    expect(signal).toBe('SIGKILL');
    const syncs = readManifest(dir, TABLES.length)!.records.filter((x) => x.kind === Kind.SYNC);
    const last = syncs.at(-1)! as { readonly through: number; readonly rows: readonly number[] };
    const c = checkTrace(dir, true, true);
    if ('error' in c) throw new Error(c.error);
    expect(c.damage).toEqual([]);
    expect(c.whole).toBe(false);
    expect(c.steps).toBe(last.through);
    const n = c.steps;
    const rd = TraceReader.open(dir);
    if ('error' in rd) throw new Error(rd.error);
    // every table served up to the same step, whatever the files hold beyond it
    expect(rd.tables().map((t) => t.rows)).toEqual(last.rows);
    expect(rd.readTable('insns').columns.length).toBe(n);
    for (const t of ['regs', 'mem', 'events', 'inputs'] as const) expect(maxSeq(rd, t)).toBeLessThan(n);
    const info = traceInfo(dir);
    if ('error' in info) throw new Error(info.error);
    expect([info.steps, info.usable.state, info.complete]).toEqual([n, 'prefix', false]);
    const text = cli(['info', dir]);
    expect(text.status).toBe(0);
    expect(text.stdout).toContain(`commands use the consistent prefix, steps 0..${n - 1}`);
    const f = fsck(dir);
    if ('error' in f) throw new Error(f.error);
    expect([f.state, f.steps, f.problems]).toEqual(['interrupted', n, []]);
    commandsWork(dir, n, new RegExp(`interrupted recording; using its consistent prefix, steps 0\\.\\.${n - 1}`));
    // --repair closes it at that step: afterwards it is whole, with the same answers and no note
    const r = cli(['fsck', dir, '--repair']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/repaired: every table cut to \d+ steps; the original files are in .*backup-/);
    const after = checkTrace(dir, true, true);
    if ('error' in after) throw new Error(after.error);
    expect([after.whole, after.steps, after.damage]).toEqual([true, n, []]);
    commandsWork(dir, n, null);
  }, 900_000);
});
