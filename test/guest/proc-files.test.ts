// The generated /proc and /sys files against the real machine: the file-backed lines of /proc/self/maps of a
// dynamically linked program are those of its native run with randomisation off (the program, its interpreter and
// libraries at the same addresses, with the same permissions and offsets), and glibc counts one CPU from
// /sys/devices/system/cpu/{online,possible}.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ENV, runProgram } from '../../src/guest/run-program.js';
import { withCapturedIo } from '../helpers/run-both.js';
import { compileC, setarchWorks } from '../native/native-tools.js';
import { cpuid } from '../../src/cpu/cpuid.js';

const ENV = Object.fromEntries(DEFAULT_ENV.map((e) => e.split('=') as [string, string]));

function emulated(image: string, args: string[]): { stdout: string; stderr: string; status: number } {
  return withCapturedIo('/', undefined, (io) => {
    const r = runProgram({ image, args, stdout: io.stdout, stderr: io.stderr });
    if ('error' in r) throw new Error(r.error);
    return { status: r.status };
  });
}

/** "start-end perms offset path" of the lines naming a file (not [heap], [stack], [vdso], anonymous memory). */
function fileLines(maps: string): string[] {
  return maps.split('\n').flatMap((l) => {
    const f = l.trim().split(/\s+/);
    return f.length >= 6 && f[5]!.startsWith('/') ? [`${f[0]} ${f[1]} ${f[2]} ${f[5]}`] : [];
  });
}

const maps = compileC(resolve('test/guest/programs/maps.c'), 'maps-musl-dynamic', ['-O1'], 'musl-gcc');
const setarch = setarchWorks();
const why = !maps.ok ? maps.reason : !setarch.ok ? setarch.reason : undefined;
if (why !== undefined) console.warn(`SKIPPED /proc/self/maps comparison: ${why}`);

describe('/proc and /sys', () => {
  it.skipIf(why !== undefined)('/proc/self/maps of a dynamic musl program: the native file mappings', () => {
    if (!maps.ok) return;
    const native = spawnSync('setarch', ['x86_64', '-R', maps.path], { cwd: '/', env: ENV, encoding: 'latin1' });
    expect(native.status).toBe(0);
    const e = emulated(maps.path, []);
    expect(e.status).toBe(0);
    const want = fileLines(native.stdout);
    expect(want.length).toBeGreaterThanOrEqual(8); // the program's 5 segments, libc.so's
    expect(fileLines(e.stdout)).toEqual(want);
  });

  const getconf = '/usr/bin/getconf';
  if (!existsSync(getconf)) console.warn(`SKIPPED CPU count: ${getconf} is not installed`);
  it.skipIf(!existsSync(getconf))('glibc counts one processor online and configured', () => {
    for (const name of ['_NPROCESSORS_ONLN', '_NPROCESSORS_CONF']) expect(emulated(getconf, [name])).toMatchObject({ stdout: '1\n', stderr: '', status: 0 });
  });

  it('/proc/cpuinfo describes one processor with the modelled CPUID', () => {
    const r = emulated('/bin/cat', ['/proc/cpuinfo']);
    expect(r.status).toBe(0);
    expect(r.stdout.match(/^processor\s*:/gm)).toHaveLength(1);
    expect(r.stdout).toMatch(/^flags\s*: .*\bsse2\b/m);
    // the flags follow CPUID leaf 1 ECX (x86-64-v2: SSE3 as pni, SSSE3, SSE4.1, SSE4.2, POPCNT); AVX is not modelled
    const [, , ecx] = cpuid(1, 0);
    const flags = /^flags\s*: (.*)$/m.exec(r.stdout)?.[1] ?? '';
    for (const [bit, name] of [[0, 'pni'], [9, 'ssse3'], [19, 'sse4_1'], [20, 'sse4_2'], [23, 'popcnt']] as const) {
      expect(new RegExp(`\\b${name}\\b`).test(flags), name).toBe(((ecx >>> bit) & 1) === 1);
    }
    expect(flags).not.toMatch(/\bavx\b/);
  });
});
