// Debian's own dynamically linked programs on the emulated machine, against their native runs: with the host's
// files as the guest's read-only root, `run` and `record` give byte-identical stdout, stderr and exit status, and
// every recording replays (`replay --verify`). A program that is not installed is skipped by name, loudly.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_ENV, runProgram } from '../../src/guest/run-program.js';
import { record } from '../../src/recorder/record.js';
import { verifyTrace } from '../../src/replayer/verify.js';
import { TraceReader } from '../../src/trace/trace-reader.js';
import { type Outcome, withCapturedIo } from '../helpers/run-both.js';

const scratch = mkdtempSync(join(tmpdir(), 'itrace-debian-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const fixed = join(scratch, 'fixed');
mkdirSync(fixed);
for (const name of ['zeta', 'alpha', 'Beta', '10', '9', '.hidden']) writeFileSync(join(fixed, name), `${name}\n`);
mkdirSync(join(fixed, 'sub'));
const text = join(scratch, 'words.txt');
writeFileSync(text, 'pear\napple\nfig\nbanana\napple\nzucchini and more words\n');

/** One program: a name for the test, the image, the arguments; `record: false` when too slow to record here. */
interface Program { name: string; image: string; args: string[]; record: boolean }

const PROGRAMS: Program[] = [
  { name: 'ls -1', image: '/usr/bin/ls', args: ['-1', fixed], record: true },
  { name: 'sort', image: '/usr/bin/sort', args: [text], record: true },
  { name: 'sha256sum', image: '/usr/bin/sha256sum', args: [text], record: true },
  { name: 'wc', image: '/usr/bin/wc', args: [text], record: true },
  { name: 'date -u -d @0', image: '/usr/bin/date', args: ['-u', '-d', '@0'], record: true },
  { name: 'dash -c', image: '/usr/bin/dash', args: ['-c', 'echo "$0 $1"; x=$((6*7)); echo $x >&2; exit 3', 'a', 'b'], record: true },
  { name: 'mawk', image: '/usr/bin/mawk', args: ['{ n += length($0) } END { print NR, n }', text], record: true },
  { name: 'perl -e', image: '/usr/bin/perl', args: ['-e', 'my %h = (b => 2, a => 1); print join(",", map { "$_=$h{$_}" } sort keys %h), "\\n"; printf("%.3f\\n", atan2(1, 1) * 4)'], record: true },
  { name: 'sqlite3 :memory:', image: '/usr/bin/sqlite3', args: [':memory:', 'create table t(x); insert into t values (3),(1),(2); select group_concat(x) from (select x from t order by x);'], record: true },
  { name: 'lua5.4', image: '/usr/bin/lua5.4', args: ['-e', 'print(string.format("%d %s", 2^10 // 1, ("x"):rep(3)))'], record: true },
  // python3 runs about 100 M instructions to start and import these modules: run only, recording takes minutes
  {
    name: 'python3 -c (json, re, hashlib)', image: '/usr/bin/python3', record: false,
    args: ['-c', 'import json, re, hashlib; print(json.dumps({"a": [1, 2]}), re.sub("b+", "x", "abbbc"), hashlib.sha256(b"x").hexdigest())'],
  },
];

const ENV = Object.fromEntries(DEFAULT_ENV.map((e) => e.split('=') as [string, string]));

/** The native run, from "/" with the guest's default environment. */
function native(p: Program): Outcome {
  const r = spawnSync(p.image, p.args, { cwd: '/', env: ENV, input: '' });
  return { stdout: r.stdout.toString('latin1'), stderr: r.stderr.toString('latin1'), status: r.status ?? -1 };
}

function emulatedRun(p: Program): Outcome {
  return withCapturedIo('/', '', (io) => {
    const res = runProgram({ image: p.image, args: p.args, stdinFile: io.stdinFile, stdout: io.stdout, stderr: io.stderr });
    if ('error' in res) throw new Error(res.error);
    return { status: res.status, message: res.message };
  });
}

function recorded(p: Program): Outcome & { verify: string } {
  return withCapturedIo('/', '', (io) => {
    const out = join(io.dir, 'trace');
    const s = record({ image: p.image, args: p.args, stdinFile: io.stdinFile, stdout: io.stdout, stderr: io.stderr, out });
    if ('error' in s) throw new Error(s.error);
    const reader = TraceReader.open(out);
    if ('error' in reader) throw new Error(reader.error);
    const v = verifyTrace(reader);
    const verify = 'error' in v ? v.error : v.ok ? 'ok' : `step ${v.seq}: ${v.what}: recorded ${v.recorded}, replayed ${v.replayed}`;
    return { status: s.exitStatus ?? -1, verify };
  });
}

describe('Debian programs: native vs trace run vs trace record', () => {
  for (const p of PROGRAMS) {
    const installed = existsSync(p.image);
    if (!installed) console.warn(`SKIPPED ${p.name}: ${p.image} is not installed`);
    it.skipIf(!installed)(`${p.name}: trace run gives the native stdout, stderr and status`, () => {
      const n = native(p);
      const e = emulatedRun(p);
      expect({ stdout: e.stdout, stderr: e.stderr, status: e.status }).toEqual(n);
    }, 600_000);
    if (!p.record) continue;
    it.skipIf(!installed)(`${p.name}: trace record gives the native output, and replay --verify passes`, () => {
      const n = native(p);
      const r = recorded(p);
      expect({ stdout: r.stdout, stderr: r.stderr, status: r.status }).toEqual(n);
      expect(r.verify).toBe('ok');
    }, 600_000);
  }
});
