// The guest's copy-on-write overlay, against native runs of the same programs: a C program that creates, writes,
// renames, links, rereads and deletes files under a host directory prints what Linux prints, while the host
// directory is left as it was; with --rw the file it keeps appears on the host. sqlite3 on a database file it
// creates gives the native answer, and its recording replays.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_ENV, runProgram } from '../../src/guest/run-program.js';
import { record } from '../../src/recorder/record.js';
import { verifyTrace } from '../../src/replayer/verify.js';
import { TraceReader } from '../../src/trace/trace-reader.js';
import { type Outcome, withCapturedIo } from '../helpers/run-both.js';
import { compileC } from '../native/native-tools.js';

const ENV = Object.fromEntries(DEFAULT_ENV.map((e) => e.split('=') as [string, string]));
const scratch = mkdtempSync(join(tmpdir(), 'itrace-overlay-host-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function native(image: string, args: string[]): Outcome {
  const r = spawnSync(image, args, { cwd: '/', env: ENV, input: '' });
  return { stdout: r.stdout.toString('latin1'), stderr: r.stderr.toString('latin1'), status: r.status ?? -1 };
}

function emulated(image: string, args: string[], rw?: string[]): Outcome {
  return withCapturedIo('/', '', (io) => {
    const res = runProgram({ image, args, rw, stdinFile: io.stdinFile, stdout: io.stdout, stderr: io.stderr });
    if ('error' in res) throw new Error(res.error);
    return { status: res.status };
  });
}

function recorded(image: string, args: string[]): Outcome & { verify: string } {
  return withCapturedIo('/', '', (io) => {
    const out = join(io.dir, 'trace');
    const s = record({ image, args, stdinFile: io.stdinFile, stdout: io.stdout, stderr: io.stderr, out });
    if ('error' in s) throw new Error(s.error);
    const reader = TraceReader.open(out);
    if ('error' in reader) throw new Error(reader.error);
    const v = verifyTrace(reader);
    const verify = 'error' in v ? v.error : v.ok ? 'ok' : `step ${v.seq}: ${v.what}`;
    return { status: s.exitStatus ?? -1, verify };
  });
}

/** The names in a host directory and their contents, to show it is unchanged. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).sort().map((n) => [n, readFileSync(join(dir, n), 'latin1')]));
}

const prog = compileC(resolve('test/guest/programs/overlay-files.c'), 'overlay-files', ['-O1']);
if (!prog.ok) console.warn(`SKIPPED overlay (C program): ${prog.reason}`);

describe.skipIf(!prog.ok)('a program that changes files under a host directory', () => {
  const image = prog.ok ? prog.path : '';

  it('sees its own changes as natively, and the host directory stays unchanged', () => {
    const dir = mkdtempSync(join(scratch, 'files-'));
    const n = native(image, [dir, 'keep']);
    expect(n.status).toBe(0);
    expect(n.stdout).toContain('read ' + dir + '/kept.txt: 5 [kept\n]');
    rmSync(join(dir, 'kept.txt'));
    const before = snapshot(dir);
    expect(emulated(image, [dir, 'keep'])).toEqual(n);
    expect(snapshot(dir)).toEqual(before); // nothing made, nothing left: the guest's files were its own
    expect(before).toEqual({});
  }, 300_000);

  it('with --rw writes the kept file through to the host', () => {
    const dir = mkdtempSync(join(scratch, 'rw-'));
    const n = native(image, [dir, 'keep']);
    rmSync(join(dir, 'kept.txt'));
    expect(emulated(image, [dir, 'keep'], [dir])).toEqual(n);
    expect(snapshot(dir)).toEqual({ 'kept.txt': 'kept\n' });
  }, 300_000);

  it('records, and the recording replays (--verify)', () => {
    const dir = mkdtempSync(join(scratch, 'rec-'));
    const n = native(image, [dir]);
    const r = recorded(image, [dir]);
    expect({ stdout: r.stdout, stderr: r.stderr, status: r.status }).toEqual(n);
    expect(r.verify).toBe('ok');
    expect(snapshot(dir)).toEqual({});
  }, 300_000);
});

const SQLITE = '/usr/bin/sqlite3';
const haveSqlite = existsSync(SQLITE);
if (!haveSqlite) console.warn(`SKIPPED overlay (sqlite3): ${SQLITE} is not installed`);
const SQL = "create table t(x, y); insert into t values (1, 'a'), (2, 'b'); insert into t select x + 2, y || y from t; " +
  'select count(*), sum(x), group_concat(y) from t; pragma integrity_check;';

describe.skipIf(!haveSqlite)('sqlite3 on a database file it creates', () => {
  it('answers as natively under trace run and trace record, replays, and leaves no file on the host', () => {
    const dir = mkdtempSync(join(scratch, 'sqlite-'));
    const db = join(dir, 'x.db');
    const n = native(SQLITE, [db, SQL]);
    expect(n).toEqual({ stdout: '4|10|a,b,aa,bb\nok\n', stderr: '', status: 0 });
    rmSync(db);
    expect(emulated(SQLITE, [db, SQL])).toEqual(n);
    const r = recorded(SQLITE, [db, SQL]);
    expect({ stdout: r.stdout, stderr: r.stderr, status: r.status }).toEqual(n);
    expect(r.verify).toBe('ok');
    expect(readdirSync(dir)).toEqual([]);
  }, 600_000);
});
