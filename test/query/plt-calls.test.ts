// Calls through the PLT: a dynamically linked gcc program calls libc's printf through its `printf@plt` stub. The
// calls table counts each as a call of printf, and that count equals gdb's count of entries into libc's printf
// (a breakpoint on it in the native run); `trace step --to 'libc.so.6!write'` lands on the first step at write.
// libc's symbols come from its separate debug file when one is installed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { QuerySession } from '../../src/query/query-session.js';
import { record } from '../../src/recorder/record.js';
import { loadTraceSymbols, readTraceSymbols } from '../../src/trace/symbols.js';
import { readModules } from '../../src/trace/modules-file.js';
import { withCapturedIo } from '../helpers/run-both.js';
import { SPAWN_TIMEOUT_MS } from '../helpers/slow-machine.js';
import { compileC, haveTool } from '../native/native-tools.js';

const N = 7;
const prog = compileC(resolve('test/guest/programs/plt-printf.c'), 'plt-printf', ['-O1']);
const why = !prog.ok ? prog.reason : !haveTool('gdb') ? 'gdb is not installed' : undefined;
if (why !== undefined) console.warn(`SKIPPED PLT calls: ${why}`);
const scratch = mkdtempSync(join(tmpdir(), 'itrace-plt-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const BIN = resolve('bin/run.js');
const built = existsSync(resolve('dist/src/commands/step.js'));

/** Entries into libc's printf in a native run, counted by a gdb breakpoint (set once libc is loaded). */
function gdbCount(image: string): number {
  const script = join(scratch, 'count.gdb');
  writeFileSync(script, [
    'set pagination off', 'set confirm off', 'break main', `run ${N} > /dev/null`, 'set $n = 0', 'break printf',
    'commands', 'silent', 'set $n = $n + 1', 'continue', 'end', 'continue', 'printf "COUNT %d\\n", $n', '',
  ].join('\n'));
  const r = spawnSync('gdb', ['-batch', '-nx', '-x', script, image], { encoding: 'utf8', timeout: SPAWN_TIMEOUT_MS });
  const m = /COUNT (\d+)/.exec(r.stdout);
  if (m === null) throw new Error(`gdb gave no count: ${r.stdout}${r.stderr}`);
  return Number(m[1]);
}

describe.skipIf(why !== undefined)('calls through the PLT (dynamic gcc program)', () => {
  it('count as calls of the function the stub jumps to, as many as gdb counts natively', async () => {
    if (!prog.ok) return;
    const dir = join(scratch, 'trace');
    const rec = withCapturedIo('/', '', (io) => {
      const s = record({ image: prog.path, args: [String(N)], stdout: io.stdout, stderr: io.stderr, out: dir });
      if ('error' in s) throw new Error(s.error);
      return { status: s.exitStatus };
    });
    expect(rec.status).toBe(0);
    expect(rec.stdout.split('\n')).toHaveLength(N + 2);
    const native = gdbCount(prog.path);
    expect(native).toBe(N);
    const s = await QuerySession.open([{ alias: 't', dir }]);
    if ('error' in s) throw new Error(s.error);
    try {
      const one = async (sql: string): Promise<unknown> => {
        const r = await s.run(sql);
        if ('error' in r) throw new Error(r.error);
        return r.rows[0]?.[0];
      };
      expect(Number(await one("select count(*) from calls where symbol = 'printf'"))).toBe(native);
      // the stubs are named as binutils names them, and the steps in them say so
      expect(Number(await one("select count(distinct seq) from insns where symbol = 'printf@plt'"))).toBeGreaterThanOrEqual(native);
      expect(Number(await one("select count(*) from calls c join insns i on i.seq = c.call_seq + 1 where c.symbol = 'printf' and i.symbol = 'printf@plt'"))).toBe(native);
      if (built) {
        const write = readTraceSymbols(dir).byName('libc.so.6!write');
        expect(write).toHaveLength(1);
        const first = Number(await one(`select min(seq) from insns where rip = ${write[0]!.address} and not faulted`)); // a faulted attempt (page fault on fetch) comes first
        const r = spawnSync(process.execPath, [BIN, 'step', dir, '--at', '0', '--to', 'libc.so.6!write', '--json'], { encoding: 'utf8', timeout: SPAWN_TIMEOUT_MS });
        expect(r.stderr).toBe('');
        const j = JSON.parse(r.stdout) as { seq: number; rip: string };
        expect(j.seq).toBe(first);
        expect(BigInt(j.rip)).toBe(write[0]!.address);
      }
    } finally {
      s.closeSync();
    }
    // libc.so.6 has only .dynsym; with its separate debug file installed (libc6-dbg), its symbols are the debug
    // file's .symtab functions, as readelf lists them
    const libc = readModules(dir).find((m) => m.name === 'libc.so.6');
    expect(libc?.buildId).toBeTruthy();
    const debug = `/usr/lib/debug/.build-id/${libc!.buildId!.slice(0, 2)}/${libc!.buildId!.slice(2)}.debug`;
    if (!existsSync(debug) || !haveTool('readelf')) {
      console.warn(`SKIPPED separate debug file check: ${debug} or readelf is missing (apt-get install libc6-dbg binutils)`);
      return;
    }
    const listed = spawnSync('readelf', ['-sW', debug], { encoding: 'latin1', maxBuffer: 1 << 28 }).stdout.split('\n')
      .map((l) => l.trim().split(/\s+/)).filter((f) => f.length >= 8 && (f[3] === 'FUNC' || f[3] === 'IFUNC') && f[6] !== 'UND').map((f) => f[7]!);
    const ours = loadTraceSymbols(dir);
    if ('error' in ours) throw new Error(ours.error);
    const names = new Set(ours.filter((x) => x.module === 'libc.so.6' && !x.name.endsWith('@plt')).map((x) => x.name));
    expect(names).toEqual(new Set(listed));
    expect(names.has('__libc_start_call_main')).toBe(true); // a static function: in .symtab only
  }, 600_000);
});
