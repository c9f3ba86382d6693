// Whole programs under the CPU models of --cpu: programs built with -O3 -march=x86-64-v3 (auto-vectorised with
// AVX2, BMI2, FMA) print exactly what they print natively under x86-64-v3 and die with the #UD diagnostic under
// the default x86-64-v2; glibc picks its AVX2 string functions under x86-64-v3 (visible in insns.symbol of a
// recording, which replays and verifies) and its SSE2 ones under x86-64-v2, and the output is native's either way.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hostCpuFlags } from '../differential/harness.js';
import { emulated, native, ROOT } from '../helpers/run-both.js';
import { SLOW_TEST_MS, SPAWN_TIMEOUT_MS } from '../helpers/slow-machine.js';

const REPO = resolve('.');
const BIN = join(REPO, 'guests/bin');
const dir = mkdtempSync(join(tmpdir(), 'itrace-cpu-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The host cannot run x86-64-v3 binaries natively: the reason, or undefined. */
const lacks = ['avx2', 'bmi1', 'bmi2', 'fma', 'movbe', 'f16c'].filter((f) => !hostCpuFlags().has(f));
const v3Native = lacks.length === 0;
if (!v3Native) console.warn(`SKIPPING the native x86-64-v3 comparisons: the host CPU lacks ${lacks.join(', ')}`);

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(REPO, 'bin/run.js'), ...args], { cwd: REPO, encoding: 'latin1', timeout: SPAWN_TIMEOUT_MS });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('programs built for x86-64-v3', () => {
  for (const libc of ['musl', 'glibc']) {
    (v3Native ? it : it.skip)(`compute-v3-${libc} under --cpu x86-64-v3 prints what it prints natively`, () => {
      const image = join(BIN, `compute-v3-${libc}`);
      const n = native(image, ['300']);
      const e = emulated(image, ['300'], undefined, ROOT, 3);
      expect(e).toMatchObject(n);
    }, SLOW_TEST_MS);
  }

  it('compute-v3-glibc under the default x86-64-v2 dies of SIGILL naming the AVX instruction and its address', () => {
    const e = emulated(join(BIN, 'compute-v3-glibc'), ['300']);
    expect(e.status).toBe(132);
    expect(e.message).toMatch(/^trace: #UD at 0x[0-9a-f]+: instruction VEX_\w+ \([0-9a-f ]+\) needs --cpu x86-64-v3; the CPU model is x86-64-v2\nIllegal instruction$/);
  }, SLOW_TEST_MS);
});

describe('glibc string functions per CPU model', () => {
  for (const level of [2, 3] as const) {
    for (const libc of ['musl', 'glibc']) {
      (level === 2 || v3Native ? it : it.skip)(`strings-${libc} under x86-64-v${level} prints what it prints natively`, () => {
        const image = join(BIN, `strings-${libc}`);
        expect(emulated(image, [], undefined, ROOT, level)).toMatchObject(native(image, []));
      }, SLOW_TEST_MS);
    }
  }

  it('a recording under --cpu x86-64-v3 runs __strlen_avx2 (x86-64-v2: __strlen_sse2), says so in meta.json and verifies', () => {
    const symbols = (cpu: string): string[] => {
      const out = join(dir, cpu);
      const rec = cli('record', '--cpu', cpu, '-o', out, join(BIN, 'strings-glibc'));
      expect(rec.status, rec.stderr).toBe(0);
      expect(JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8')).cpu).toBe(cpu);
      const q = cli('query', out, "select distinct symbol from insns where symbol like '__str%' or symbol like '__mem%' order by 1", '--format', 'csv');
      expect(q.status, q.stderr).toBe(0);
      const ver = cli('replay', '--verify', out);
      expect(ver.status, ver.stdout + ver.stderr).toBe(0);
      return q.stdout.trim().split('\n').slice(1); // CSV: a header, then one symbol per line
    };
    const v3 = symbols('x86-64-v3');
    expect(v3).toContain('__strlen_avx2');
    expect(v3).toContain('__memchr_avx2');
    expect(v3.some((s) => /sse2/.test(s))).toBe(false);
    const v2 = symbols('x86-64-v2');
    expect(v2).toContain('__strlen_sse2');
    expect(v2.some((s) => /avx/.test(s))).toBe(false);
  }, SLOW_TEST_MS);

  it('trace run prints the #UD diagnostic of an instruction outside the model on stderr', () => {
    const r = cli('run', join(BIN, 'compute-v3-musl'), '--', '10');
    expect(r.status).toBe(132);
    expect(r.stderr).toMatch(/^trace: #UD at 0x[0-9a-f]+: instruction VEX_\w+ \([0-9a-f ]+\) needs --cpu x86-64-v3; the CPU model is x86-64-v2\nIllegal instruction\n$/);
  }, SLOW_TEST_MS);
});
