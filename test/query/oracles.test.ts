// trace query against tools no one here wrote, on the same binary, arguments, argv[0], environment and cwd:
// - callgrind: calls per function of the program's own code and of the libc routines it calls directly, and the
//   inclusive instruction count of main's merge_sort call: callgrind's inclusive Ir equals the frame's user-mode,
//   non-faulted steps (the kernel steps and the faulted first attempts of page-faulting instructions are what the
//   trace adds) plus one per execution of a REP instruction (valgrind counts the final pass that finds RCX = 0; the
//   trace has one step per iteration). main itself differs a little more: valgrind's x87 is 64-bit, so fmt_fp's
//   long-double paths differ, and its startup (auxv) changes __init_libc; that is checked to 1%;
// - strace -f: the system-call names in order (musl samples).
// Functions left out of the call-count comparison and why: callgrind counts a tail jump into a function as a call
// (cmp_u64 is reached from musl's wrapper_cmp by `jmp`, __syscall_ret similarly), names aliases differently
// (__mmap/mmap, memcpy unnamed), and sees its own startup code; the calls table counts CALL instructions only.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ENV } from '../../src/guest/run-program.js';
import { QuerySession } from '../../src/query/query-session.js';
import { callgrind, have } from './callgrind.js';
import { recordSample, SAMPLE_ROOT } from './record-sample.js';

const ENV = Object.fromEntries(DEFAULT_ENV.map((e) => e.split('=') as [string, string]));
const hasValgrind = have('valgrind');
const hasStrace = have('strace');
if (!hasValgrind) console.warn('SKIPPED: valgrind is not installed: callgrind oracle tests of trace query do not run (apt-get install valgrind)');
if (!hasStrace) console.warn('SKIPPED: strace is not installed: strace oracle tests of trace query do not run (apt-get install strace)');

/** Functions whose call counts do not depend on valgrind's startup code, CPUID or tail jumps. */
const COMPARED = ['main', 'merge_sort', 'wrapper_cmp', 'sift', 'trinkle', 'cycle', 'qsort', 'memcmp', 'printf', 'vfprintf', 'printf_core',
  'fmt_fp', 'pop_arg', '__fwritex', 'free', 'nontrivial_free', '__stdio_write', 'frexpl', '__fpclassifyl', '__signbitl'];

let session: QuerySession;
let sample: ReturnType<typeof recordSample>;
const N = '300';

async function q(sql: string): Promise<unknown[][]> {
  const r = await session.run(sql);
  if ('error' in r) throw new Error(r.error);
  return r.rows;
}

beforeAll(async () => {
  sample = recordSample('compute-musl', [N]);
  const s = await QuerySession.open([{ alias: 't', dir: sample.dir }]);
  if ('error' in s) throw new Error(s.error);
  session = s;
});
afterAll(() => session?.closeSync());

describe.skipIf(!hasValgrind)('calls agree with callgrind (compute-musl)', () => {
  it('call counts per function', async () => {
    const cg = callgrind(sample.image, [N], SAMPLE_ROOT, ENV);
    const ours = new Map((await q("select symbol, count(*) from calls where ring = 3 group by symbol")).map(([s, n]) => [s as string, Number(n)]));
    const theirs = (f: string): number => [...cg.calls].filter(([k]) => k === f || k.startsWith(`${f}'`)).reduce((a, [, n]) => a + n, 0);
    const table = COMPARED.map((f) => ({ f, ours: ours.get(f) ?? 0, callgrind: theirs(f) }));
    console.log(table.map((r) => `${r.f.padEnd(16)} ${String(r.ours).padStart(7)} ${String(r.callgrind).padStart(7)}`).join('\n'));
    for (const r of table) expect(r.ours, r.f).toBe(r.callgrind);
    expect(table.find((r) => r.f === 'wrapper_cmp')!.ours).toBeGreaterThan(1000);
  });

  it('inclusive user-mode steps of merge_sort (and main) agree with callgrind inclusive Ir', async () => {
    const cg = callgrind(sample.image, [N], SAMPLE_ROOT, ENV);
    const frame = async (symbol: string, caller: string): Promise<{ user: number; repRuns: number; inclusive: number }> => {
      const r = await q(`with c as (select * from calls where symbol = '${symbol}' and caller_symbol = '${caller}'),
                              s as (select i.*, lag(i.rip) over (order by i.seq) prev from insns i, c where i.seq > c.call_seq and i.seq <= c.return_seq)
                         select (select count(*) from s where ring = 3 and not faulted),
                                (select count(*) from s where ring = 3 and not faulted and disassembly like 'rep%' and rip is distinct from prev),
                                (select inclusive from c), (select count(*) from c)`);
      expect(r[0]![3]).toBe(1n);
      return { user: Number(r[0]![0]), repRuns: Number(r[0]![1]), inclusive: Number(r[0]![2]) };
    };
    const ms = await frame('merge_sort', 'main');
    const main = await frame('main', 'libc_start_main_stage2');
    const cgMs = cg.inclusiveIr.get('main>merge_sort')!, cgMain = cg.inclusiveIr.get('libc_start_main_stage2>main')!;
    console.log(`merge_sort: ${ms.user} user steps + ${ms.repRuns} REP executions = ${ms.user + ms.repRuns}; callgrind ${cgMs}`);
    console.log(`main: ${main.user} user steps + ${main.repRuns} REP executions = ${main.user + main.repRuns} (inclusive with kernel ${main.inclusive}); callgrind ${cgMain}`);
    expect(ms.user + ms.repRuns).toBe(cgMs);
    expect(Math.abs(main.user + main.repRuns - cgMain) / cgMain).toBeLessThan(0.01);
    expect(main.inclusive).toBeGreaterThan(main.user); // the kernel's steps (system calls, page faults) are inside
  });
});

describe.skipIf(!hasStrace)('syscalls agree with strace -f', () => {
  for (const [name, args] of [['compute-musl', ['50']], ['hello-musl', []], ['pages-musl', []]] as [string, string[]][]) {
    it(`${name}: names in order`, async () => {
      const rec = name === 'compute-musl' ? sample : recordSample(name, args);
      const out = join(mkdtempSync(join(tmpdir(), 'itrace-strace-')), 'strace.out');
      const r = spawnSync('strace', ['-f', '-o', out, rec.image, ...(name === 'compute-musl' ? [N] : args)], { cwd: SAMPLE_ROOT, env: ENV, stdio: 'ignore' });
      expect(r.status).not.toBeNull();
      const theirs = readFileSync(out, 'utf8').split('\n')
        .map((l) => /^\d+\s+([a-z_0-9]+)\(/.exec(l)?.[1])
        .filter((x): x is string => x !== undefined && x !== 'execve');
      const s = name === 'compute-musl' ? session : await QuerySession.open([{ alias: 't', dir: rec.dir }]);
      if ('error' in s) throw new Error(s.error);
      const res = await s.run('select name from syscalls order by entry_seq');
      if (s !== session) s.closeSync();
      if ('error' in res) throw new Error(res.error);
      expect(res.rows.map((x) => x[0])).toEqual(theirs);
    });
  }
});
