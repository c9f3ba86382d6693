// Modules of a recorded dynamic program: every executable mapping of an ELF file (the program, the interpreter,
// the libraries) is a module whose placement is the native one (the lowest address /proc/self/maps shows for that
// file under `setarch -R`), with the build-id the file's note carries; symbols of every module name the code, and
// `module!symbol` picks one module's symbol.
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readModules } from '../../src/trace/modules-file.js';
import { readTraceSymbols } from '../../src/trace/symbols.js';
import { DEFAULT_ENV } from '../../src/guest/run-program.js';
import { record } from '../../src/recorder/record.js';
import { withCapturedIo } from '../helpers/run-both.js';
import { compileC, setarchWorks } from '../native/native-tools.js';

const ENV = Object.fromEntries(DEFAULT_ENV.map((e) => e.split('=') as [string, string]));
const maps = compileC(resolve('test/guest/programs/maps.c'), 'maps-musl-dynamic', ['-O1'], 'musl-gcc');
const setarch = setarchWorks();
const why = !maps.ok ? maps.reason : !setarch.ok ? setarch.reason : undefined;
if (why !== undefined) console.warn(`SKIPPED modules: ${why}`);

describe.skipIf(why !== undefined)('modules of a dynamic musl program', () => {
  it('are mapped where Linux maps them, with their build-ids and symbols', async () => {
    if (!maps.ok) return;
    const native = spawnSync('setarch', ['x86_64', '-R', maps.path], { cwd: '/', env: ENV, encoding: 'latin1' });
    const lowest = new Map<string, bigint>();
    for (const l of native.stdout.split('\n')) {
      const f = l.trim().split(/\s+/);
      if (f.length < 6 || !f[5]!.startsWith('/')) continue;
      const start = BigInt(`0x${f[0]!.split('-')[0]}`);
      if (!lowest.has(f[5]!) || start < lowest.get(f[5]!)!) lowest.set(f[5]!, start);
    }
    const rec = withCapturedIo('/', undefined, (io) => {
      const out = join(io.dir, 'trace');
      const s = record({ image: maps.path, args: [], stdout: io.stdout, stderr: io.stderr, out });
      if ('error' in s) throw new Error(s.error);
      return { dir: out, status: s.exitStatus, modules: readModules(out), symbols: readTraceSymbols(out) };
    });
    expect(rec.status).toBe(0);
    // the program and musl's libc.so (which is its own dynamic loader)
    expect(rec.modules.map((m) => [m.path, m.start])).toEqual([...lowest]);
    expect(rec.modules.map((m) => m.mapSeq)).toEqual([0, 0]); // both mapped by the exec, before the first step
    for (const m of rec.modules) {
      const readelf = spawnSync('readelf', ['-n', m.path], { encoding: 'latin1' });
      const id = /Build ID: ([0-9a-f]+)/.exec(readelf.stdout ?? '')?.[1] ?? null;
      if (readelf.status === 0) expect(m.buildId).toBe(id);
    }
    // symbols from both modules: main in the program, printf/fputs in libc.so
    const prog = rec.modules[0]!.name, libc = rec.modules[1]!.name;
    expect(rec.symbols.byName(`${prog}!main`)).toHaveLength(1);
    const fputs = rec.symbols.byName(`${libc}!fputs`);
    expect(fputs).toHaveLength(1);
    expect(rec.symbols.describe(fputs[0]!.address + 4n)).toMatch(/^(libc\.so!)?fputs\+0x4$/);
  }, 300_000);
});
