// Processes on the one emulated processor: fork, exec, wait and pipes between processes, checked against native runs
// of the same programs (a C program of ours, and shells nobody here wrote: bash-static, dash, BusyBox sh), and
// recordings of them replayed with --verify (every step re-executed, the switches in ring 0 among them).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runProgram } from '../../src/guest/run-program.js';
import { record } from '../../src/recorder/record.js';
import { verifyTrace } from '../../src/replayer/verify.js';
import { QuerySession } from '../../src/query/query-session.js';
import { sealJson, unsealJson } from '../../src/trace/sealed-json.js';
import { TraceReader } from '../../src/trace/trace-reader.js';
import { emulated, native, withCapturedIo } from '../helpers/run-both.js';
import { SLOW_TEST_MS } from '../helpers/slow-machine.js';

const HOST_ROOT = '/';
const BUSYBOX = '/bin/busybox', DASH = '/bin/dash', BASH = '/bin/bash-static';
const tmp = mkdtempSync(join(tmpdir(), 'itrace-procs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function same(image: string, args: string[], stdin?: string): void {
  const n = native(image, args, stdin, HOST_ROOT);
  const e = emulated(image, args, stdin, HOST_ROOT);
  expect(e.stdout).toBe(n.stdout);
  expect(e.stderr).toBe(n.stderr);
  expect(e.status).toBe(n.status);
}

describe('a C program that forks, execs another program and waits for it', () => {
  for (const libc of ['musl', 'glibc']) {
    it(`forkexec-${libc} prints what it prints natively and exits 3`, () => {
      const image = join(process.cwd(), `guests/bin/forkexec-${libc}`);
      const n = native(image, [], undefined, HOST_ROOT);
      expect(n.stdout).toContain('waited 1: exited=1 status=7');
      expect(n.status).toBe(3);
      same(image, []);
    }, SLOW_TEST_MS);
  }
});

describe('a pthread program (mutex, condition variable, barrier, thread-local storage)', () => {
  for (const libc of ['musl', 'glibc']) {
    it(`threads-${libc} prints what it prints natively`, () => {
      const image = join(process.cwd(), `guests/bin/threads-${libc}`);
      expect(native(image, [], undefined, HOST_ROOT).stdout).toBe('counter=8000 tls_total=8008000 tokens=4912 got=32 main_tls=0\n');
      same(image, []);
    }, SLOW_TEST_MS);
  }
});

describe('chaos mode', () => {
  const image = join(process.cwd(), 'guests/bin/racy-musl');
  const run = (chaos?: number): { stdout: string; status: number } => withCapturedIo(HOST_ROOT, undefined, (io) => {
    const r = runProgram({ image, args: [], root: HOST_ROOT, stdout: io.stdout, stderr: io.stderr, chaos });
    if ('error' in r) throw new Error(r.error);
    return { status: r.status };
  });

  it('a racy program passes under the default schedule, fails under some seed within 20, and that seed replays the failure', () => {
    expect(run()).toMatchObject({ stdout: 'counter=400\n', status: 0 });
    let failing: number | undefined;
    for (let seed = 1; seed <= 20 && failing === undefined; seed++) if (run(seed).status !== 0) failing = seed;
    expect(failing).toBeDefined();
    const again = run(failing);
    expect(again.status).toBe(1);
    const out = join(tmp, 'racy-chaos');
    const rec = withCapturedIo(HOST_ROOT, undefined, (io) => {
      const s = record({ image, args: [], root: HOST_ROOT, out, stdout: io.stdout, stderr: io.stderr, chaos: failing, background: false });
      if ('error' in s) throw new Error(s.error);
      return { summary: s };
    });
    expect(rec.stdout).toBe(again.stdout);
    expect(rec.summary.exitStatus).toBe(1);
    const reader = TraceReader.open(out);
    if ('error' in reader) throw new Error(reader.error);
    expect(reader.meta.chaos).toBe(String(failing));
    expect(verifyTrace(reader)).toMatchObject({ ok: true, steps: rec.summary.steps });
  }, SLOW_TEST_MS);
});

const SCRIPTS: [string, string][] = [
  ['command substitution', 'x=$(echo sub; echo two); echo "got $x"'],
  ['a pipe of three commands', "printf 'pear\\napple\\nfig\\n' | sort | tr a-z A-Z"],
  ['exit statuses of children', 'sh -c "exit 5"; echo "status $?"; false | true; echo "pipe $?"'],
  // the shell sleeps in rt_sigsuspend until SIGCHLD: the children run meanwhile and the signal ends the wait
  ['background jobs, wait for one and for all, a CHLD trap',
    'f() { echo "in $1"; return $1; }; (sleep 0; exit 3) & p=$!; f 1 & wait $p; echo "one $?"; wait; echo all; trap "echo chld" CHLD; true & wait; echo end'],
];

describe.skipIf(!existsSync(BASH))('bash-static scripts', () => {
  for (const [name, script] of SCRIPTS) it(name, () => same(BASH, ['-c', script]), SLOW_TEST_MS);
  it('a background job and wait', () => same(BASH, ['-c', 'echo start; (echo in-bg) & wait; echo "waited $?"']), SLOW_TEST_MS);
});

describe.skipIf(!existsSync(DASH))('dash scripts', () => {
  for (const [name, script] of SCRIPTS) it(name, () => same(DASH, ['-c', script]), SLOW_TEST_MS);
});

describe.skipIf(!existsSync(BUSYBOX))('BusyBox sh -c pipelines', () => {
  it('three applets in a pipe', () => same(BUSYBOX, ['sh', '-c', "printf 'b\\na\\nc\\na\\n' | sort | uniq -c"]), SLOW_TEST_MS);
  it('command substitution and a pipe into read', () => same(BUSYBOX, ['sh', '-c', 'n=$(echo 1 2 3 | wc -w); echo "words $n"']), SLOW_TEST_MS);
  it('a pipe fed from stdin', () => same(BUSYBOX, ['sh', '-c', 'cat | tr a-z A-Z | wc -l'], 'one\ntwo\n'), SLOW_TEST_MS);
  it('background jobs and wait', () => same(BUSYBOX, ['sh', '-c', SCRIPTS[3]![1]]), SLOW_TEST_MS);
});

describe('recordings of several processes', () => {
  const cases: [string, string, string[]][] = [
    ['forkexec-musl', join(process.cwd(), 'guests/bin/forkexec-musl'), []],
    ['threads-glibc', join(process.cwd(), 'guests/bin/threads-glibc'), []],
  ];
  if (existsSync(BUSYBOX)) cases.push(['busybox pipeline', BUSYBOX, ['sh', '-c', "echo b a | tr ' ' '\\n' | sort"]]);
  if (existsSync(DASH)) cases.push(['dash background jobs and wait', DASH, ['-c', SCRIPTS[3]![1]]]);
  for (const [name, image, args] of cases) {
    it(`${name}: recorded with the native output, and replay --verify passes`, async () => {
      const out = join(tmp, name.replace(/\W+/g, '-'));
      const r = withCapturedIo(HOST_ROOT, undefined, (io) => {
        const s = record({ image, args, root: HOST_ROOT, out, stdout: io.stdout, stderr: io.stderr, background: false });
        if ('error' in s) throw new Error(s.error);
        return { summary: s };
      });
      const n = native(image, args, undefined, HOST_ROOT);
      expect(r.stdout).toBe(n.stdout);
      expect(r.summary.exitStatus).toBe(n.status);
      const reader = TraceReader.open(out);
      if ('error' in reader) throw new Error(reader.error);
      const v = verifyTrace(reader);
      expect(v).toMatchObject({ ok: true, steps: r.summary.steps });
      if (name === 'forkexec-musl') await checkSql(out, r.summary.steps);
    }, SLOW_TEST_MS);
  }
});

async function rows(dir: string, sql: string): Promise<unknown[][]> {
  const s = await QuerySession.open([{ alias: 't', dir }]);
  if ('error' in s) throw new Error(s.error);
  try {
    const r = await s.run(sql);
    if ('error' in r) throw new Error(r.error);
    return r.rows;
  } finally {
    s.closeSync();
  }
}

/** processes, threads, schedule and insns.tid of the forkexec recording, against what the program does. */
async function checkSql(dir: string, steps: number): Promise<void> {
  // the parent, the child that exits 7, the child that execs echo
  expect(await rows(dir, 'select pid, ppid, exit_status, exec_seqs <> \'\' from processes order by pid')).toEqual([
    [1000, 999, 3, false], [1001, 1000, 7, false], [1002, 1000, 0, true],
  ]);
  expect(await rows(dir, 'select count(*) from threads')).toEqual([[3n]]);
  // every run starts at __switch_to's RET (the first step on the thread's own kernel stack), right after the load
  // of its kernel RSP, and the thread goes on where it was switched out (the pops of the SYSCALL entry's switch path)
  const at = await rows(dir, `select s.seq, i.disassembly, p.disassembly, n.disassembly, i.tid = s.tid from schedule s join insns i on i.seq = s.seq
    join insns p on p.seq = s.seq - 1 join insns n on n.seq = s.seq + 1 where s.seq > 0 order by s.seq`);
  expect(at.length).toBeGreaterThanOrEqual(4);
  for (const r of at) expect(r.slice(1)).toEqual(['ret', 'mov rsp,[rdi+200h]', 'pop r15', true]);
  // the runs cover every step once
  expect(await rows(dir, 'select sum(end_seq - seq + 1) from schedule')).toEqual([[BigInt(steps)]]);
  expect(await rows(dir, 'select count(*) from insns where tid is null')).toEqual([[0n]]);
  // the child's steps at ring 3 run in its own address space: the forks and the exec are events
  expect(await rows(dir, "select kind, vector from events where kind in ('fork', 'exec') order by seq")).toEqual([['fork', 1001], ['fork', 1002], ['exec', 1002]]);
}

describe('a version-3 trace (no processes.json)', () => {
  it('reads as one thread, pid = tid = 1', async () => {
    const out = join(tmp, 'v3');
    const image = join(process.cwd(), 'guests/bin/hello-musl');
    withCapturedIo(HOST_ROOT, undefined, (io) => {
      const s = record({ image, args: [], root: HOST_ROOT, out, stdout: io.stdout, stderr: io.stderr, background: false });
      if ('error' in s) throw new Error(s.error);
      return {};
    });
    const meta = unsealJson(readFileSync(join(out, 'meta.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(out, 'meta.json'), sealJson({ ...meta, version: 3 }));
    rmSync(join(out, 'processes.json'));
    const reader = TraceReader.open(out);
    if ('error' in reader) throw new Error(reader.error);
    expect(await rows(out, 'select pid, tid, count(*) = (select count(*) from insns) from insns group by all')).toEqual([[1, 1, true]]);
    expect(await rows(out, 'select pid from processes')).toEqual([[1]]);
  }, SLOW_TEST_MS);
});
