// Errors a user can cause, through the real CLI: each is one line on stderr and a documented exit status, never a
// JavaScript error text, and each is caught before the work starts (an image that is not a regular file, an output
// directory under /proc, a --summary-json that is a directory, a seed that is not an exact 64-bit integer). A
// breakpoint or watchpoint that never hits says "hit": false and exits 1. Output stops quietly when its reader
// closes (a long `trace step --count` stops moving too). Index builds that fail or are interrupted leave no scratch files in the trace.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { recordRun } from '../diff/record-run.js';

const RUN = resolve('bin/run.js');
const HELLO = resolve('guests/bin/hello-musl');
let work = '', hello = '', compute = '';

interface Ran { status: number | null; stdout: string; stderr: string }
const cli = (...args: string[]): Ran => {
  const r = spawnSync(process.execPath, [RUN, ...args], { encoding: 'utf8', cwd: work, timeout: 180_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};

/** A refusal: status 2, nothing on stdout, exactly one line on stderr naming the command, no stack. */
function refused(r: Ran, cmd: string, message: RegExp): void {
  expect(r.status, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(new RegExp(`^trace ${cmd}: [^\\n]+\\n$`));
  expect(r.stderr).toMatch(message);
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'itrace-errors-'));
  hello = recordRun('hello-musl', []);
  compute = recordRun('compute-musl', ['200']);
}, 300_000);

describe('command-line mistakes oclif finds', () => {
  it('a bad flag value, a missing argument, conflicting flags: one line each, status 2', () => {
    refused(cli('step', hello, '--count', 'abc'), 'step', /--count; Expected an integer but received: abc \(see trace step --help\)/);
    refused(cli('info'), 'info', /Missing 1 required arg/);
    refused(cli('step', hello, '--over', '--out'), 'step', /cannot also be provided/);
    refused(cli('query', hello, '-f', work), 'query', /-f .*: is a directory$/m);
  }, 300_000);
});

describe('images that are not regular files are refused before reading', () => {
  it('run and record: /dev/zero, a FIFO, a directory', () => {
    const fifo = join(work, 'fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    for (const cmd of ['run', 'record']) {
      refused(cli(cmd, '/dev/zero'), cmd, /\/dev\/zero: is a character device, not a regular file/);
      refused(cli(cmd, fifo), cmd, /fifo: is a FIFO, not a regular file/);
      refused(cli(cmd, work), cmd, /: is a directory$/m);
      refused(cli(cmd, join(work, 'missing')), cmd, /missing: no such file/);
    }
    // record made no trace directory for any of them
    expect(existsSync(join(work, 'traces'))).toBe(false);
  }, 300_000);
});

describe('record: output paths are checked before recording starts', () => {
  it('-o under /proc, under a file, or a non-empty directory', () => {
    refused(cli('record', HELLO, '-o', '/proc/itrace-x'), 'record', /cannot create \/proc\/itrace-x: no such file or directory/);
    refused(cli('record', HELLO, '-o', '/dev/null/x'), 'record', /cannot create \/dev\/null\/x/);
    refused(cli('record', HELLO, '-o', hello), 'record', /not empty/);
  }, 300_000);

  it('--summary-json that is a directory or in a missing directory: refused, and no trace is left', () => {
    const out = join(work, 'sj');
    refused(cli('record', HELLO, '-o', out, '--summary-json', work), 'record', /--summary-json .*: is a directory$/m);
    refused(cli('record', HELLO, '-o', out, '--summary-json', join(work, 'no', 'such', 's.json')), 'record', /--summary-json .*: no such directory/);
    expect(existsSync(out)).toBe(false);
    // a good one is written
    const ok = cli('record', HELLO, '-o', out, '--summary-json', join(work, 's.json'));
    expect(ok.status).toBe(0);
    expect(JSON.parse(readFileSync(join(work, 's.json'), 'utf8')).steps).toBeGreaterThan(0);
  }, 300_000);
});

describe('record --seed: exact 64-bit integers', () => {
  it('seeds 2^53 and 2^53+1 give different random bytes; 2^53 and 0x20000000000000 the same; others are refused', () => {
    const inputs = (seed: string, name: string): Buffer => {
      const r = cli('record', HELLO, '-o', join(work, name), '--seed', seed);
      expect(r.status, r.stderr).toBe(0);
      return readFileSync(join(work, name, 'inputs.arrows'));
    };
    const a = inputs('9007199254740992', 's53'), b = inputs('9007199254740993', 's53p1'), c = inputs('0x20000000000000', 's53hex');
    expect(a.equals(b)).toBe(false);
    expect(a.equals(c)).toBe(true);
    refused(cli('record', HELLO, '-o', join(work, 'sx'), '--seed', '18446744073709551616'), 'record', /out of range/);
    refused(cli('record', HELLO, '-o', join(work, 'sx'), '--seed', '1e3'), 'record', /not an integer/);
    refused(cli('record', HELLO, '-o', join(work, 'sx'), '--seed', '12abc'), 'record', /not an integer/);
    expect(existsSync(join(work, 'sx'))).toBe(false);
  }, 300_000);
});

describe('step --to / --write that never hits', () => {
  it('"hit": false in JSON and exit status 1; a hit exits 0 with "hit": true', () => {
    expect(cli('step', hello, '--at', '0').status).toBe(0);
    const hit = cli('step', hello, '--to', 'main', '--json');
    expect(hit.status, hit.stderr).toBe(0);
    const h = JSON.parse(hit.stdout) as { hit: boolean; symbol: string };
    expect(h.hit).toBe(true);
    expect(h.symbol).toBe('main');
    // main runs once: from there, no later execution
    const miss = cli('step', hello, '--to', 'main', '--json');
    expect(miss.status).toBe(1);
    expect((JSON.parse(miss.stdout) as { hit: boolean }).hit).toBe(false);
    const text = cli('step', hello, '--at', '0', '--to', '0x1000');
    expect(text.status).toBe(1);
    expect(text.stdout).toMatch(/no later execution of 0x1000/);
    expect(cli('step', hello, '--at', '0').status).toBe(0);
    const w = cli('step', hello, '--write', '0x1000:8', '--json');
    expect(w.status).toBe(1);
    expect((JSON.parse(w.stdout) as { hit: boolean }).hit).toBe(false);
    // plain steps have no "hit"
    const plain = cli('step', hello, '--at', '0', '--count', '3', '--json');
    expect(plain.status).toBe(0);
    expect('hit' in (JSON.parse(plain.stdout) as object)).toBe(false);
  }, 300_000);
});

/** Spawn the CLI, close its stdout after the first output, and wait for it to end. */
function closeAfterFirstOutput(...args: string[]): Promise<{ code: number | null; signal: string | null; stderr: string; sawOutput: boolean }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [RUN, ...args], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '', sawOutput = false;
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.stdout.once('data', () => { sawOutput = true; child.stdout.destroy(); });
    child.on('close', (code, signal) => done({ code, signal, stderr, sawOutput }));
  });
}

describe('output stops when its reader closes (EPIPE)', () => {
  it('trace step --count 100000 and a large trace query end at once, status 0, no error text', async () => {
    expect(cli('step', compute, '--at', '0').status).toBe(0);
    for (const args of [['step', compute, '--count', '100000'], ['query', compute, 'select * from insns', '--format', 'csv']]) {
      const r = await closeAfterFirstOutput(...args);
      expect(r.sawOutput).toBe(true);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
    // the step loop stopped at the closed pipe instead of finishing its 100,000 moves: the move was not saved
    expect(JSON.parse(readFileSync(join(compute, 'position.json'), 'utf8'))).toEqual({ seq: 0 });
  }, 300_000);
});

const debris = (dir: string): string[] => readdirSync(dir).filter((n) => /\.build-\d+|step-index\.tmp/.test(n));

/** Spawn the CLI and send `signal` once a file matching `pattern` appears in `dir`; returns whether it was seen. */
function interruptWhenSeen(dir: string, pattern: RegExp, signal: NodeJS.Signals, ...args: string[]): Promise<{ seen: boolean; code: number | null; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [RUN, ...args], { cwd: work, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '', seen = false, finished = false;
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const poll = (): void => {
      if (finished) return;
      if (readdirSync(dir).some((n) => pattern.test(n))) { seen = true; child.kill(signal); return; }
      setTimeout(poll, 10);
    };
    poll();
    child.on('close', (code) => { finished = true; done({ seen, code, stderr }); });
  });
}

describe('index builds leave nothing behind', () => {
  it('an interrupted SQL index build (SIGINT) removes its scratch files', async () => {
    const t = join(work, 'c-sigint');
    cpSync(compute, t, { recursive: true });
    rmSync(join(t, 'query.duckdb'), { force: true });
    const r = await interruptWhenSeen(t, /\.build-\d+/, 'SIGINT', 'index', t);
    expect(r.seen).toBe(true);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(debris(t)).toEqual([]);
    if (r.code === 130) expect(existsSync(join(t, 'query.duckdb'))).toBe(false); // interrupted, not half-built
    // the next query builds it and answers
    expect(cli('query', t, 'select count(*) > 0 ok from insns', '--format', 'csv').stdout).toBe('ok\ntrue\n');
    expect(debris(t)).toEqual([]);
  }, 300_000);

  it('a killed step-index build leaves a scratch directory that the next open removes', async () => {
    const t = join(work, 'c-sigkill');
    cpSync(compute, t, { recursive: true });
    rmSync(join(t, 'step-index'), { recursive: true, force: true });
    const r = await interruptWhenSeen(t, /^step-index\.tmp\d+$/, 'SIGKILL', 'step', t, '--at', '5');
    expect(r.seen).toBe(true);
    const s = cli('step', t, '--at', '5');
    expect(s.status).toBe(0);
    expect(debris(t)).toEqual([]);
  }, 300_000);

  it('a failed build (SQL index whose final name is taken; step index with a damaged checkpoint) leaves no scratch', () => {
    const t = join(work, 'h-fail');
    cpSync(hello, t, { recursive: true });
    for (const n of readdirSync(t)) if (n.startsWith('query.') || n === 'step-index' || n === 'position.json') rmSync(join(t, n), { recursive: true });
    mkdirSync(join(t, 'query.duckdb'));
    refused(cli('query', t, 'select 1'), 'query', /indexing/);
    expect(debris(t)).toEqual([]);
    rmSync(join(t, 'query.duckdb'), { recursive: true });
    expect(spawnSync('truncate', ['-s', '100', join(t, 'checkpoints', '000000000000.msgpack')]).status).toBe(0);
    refused(cli('step', t, '--at', '3'), 'step', /checkpoint/);
    expect(debris(t)).toEqual([]);
  }, 300_000);
});
