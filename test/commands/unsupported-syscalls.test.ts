// Nothing is silent: a system call the guest kernel does not implement is counted and reported on stderr at exit
// (`trace run`, `trace record`), in --summary-json, in `trace info` and as an event row; --strict stops the guest
// at the first one with status 2.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TraceReader } from '../../src/trace/trace-reader.js';
import { compileC } from '../native/native-tools.js';

const REPO = resolve('.');
const dir = mkdtempSync(join(tmpdir(), 'itrace-unsupported-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const built = compileC(join(REPO, 'test/guest/programs/unsupported-call.c'), 'unsupported-call', ['-static', '-O1'], 'musl-gcc');
if (!built.ok) console.warn(`SKIPPED unsupported system call reports: ${built.reason}`);

function trace(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(REPO, 'bin/run.js'), ...args], { cwd: REPO, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(!built.ok)('unsupported system calls are reported', () => {
  const image = built.ok ? built.path : '';

  it('trace run: the program runs on (ENOSYS) and the calls are listed on stderr at exit', () => {
    expect(trace('run', image)).toEqual({ status: 0, stdout: 'done\n', stderr: 'trace: unsupported system calls: io_setup ×2 (ENOSYS)\n' });
  });

  it('trace run --strict: stops at the first one with status 2', () => {
    const r = trace('run', '--strict', image);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('trace: stopped at the unsupported system call io_setup (ENOSYS) with --strict\n');
    expect(r.stderr).toContain('io_setup ×1 (ENOSYS)');
  });

  it('trace record: stderr, --summary-json, trace info and two event rows', () => {
    const out = join(dir, 'trace'), json = join(dir, 'summary.json');
    const r = trace('record', image, '--out', out, '--summary-json', json);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('done\n');
    expect(r.stderr).toContain('trace: unsupported system calls: io_setup ×2 (ENOSYS)\n');
    expect(JSON.parse(readFileSync(json, 'utf8')).unsupportedSyscalls).toEqual([{ name: 'io_setup', result: 'ENOSYS', count: 2 }]);
    const info = trace('info', out);
    expect(info.stdout).toMatch(/^unsupported\s+io_setup ×2 \(ENOSYS\)$/m);
    const reader = TraceReader.open(out);
    if ('error' in reader) throw new Error(reader.error);
    const ev = reader.readTable('events').columns;
    const rows = [...ev.strings('kind')].map((k, i) => ({ k, vector: ev.ints('vector')[i], err: ev.ints('error_code')[i] })).filter((x) => x.k === 'unsupported_syscall');
    expect(rows).toEqual([{ k: 'unsupported_syscall', vector: 206, err: 38 }, { k: 'unsupported_syscall', vector: 206, err: 38 }]);
  });
});
