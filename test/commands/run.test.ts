// `trace run` end to end: the real CLI binary (bin/run.js on the built dist/), its stdout/stderr pass-through, the
// guest's exit status as its own, the flags, the `--` convention, and one-line errors with status 2 for every
// image the machine cannot run.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SLOW_TEST_MS, SPAWN_TIMEOUT_MS } from '../helpers/slow-machine.js';

const REPO = resolve('.');
const BIN = join(REPO, 'guests/bin');
const ROOT = join(REPO, 'guests/root');
const dir = mkdtempSync(join(tmpdir(), 'itrace-cli-'));

interface Result { status: number | null; stdout: string; stderr: string }

/** `trace run ARGS...` from the repository root. */
function trace(...args: string[]): Result {
  const r = spawnSync(process.execPath, [join(REPO, 'bin/run.js'), 'run', ...args], { cwd: REPO, encoding: 'latin1', timeout: SPAWN_TIMEOUT_MS });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  const r = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: REPO, encoding: 'utf8' });
  // tsc emits even when it reports type errors (files other people are editing may have some): the CLI is tested
  // as built; type errors in our files are caught by `tsc --noEmit`.
  if (r.status !== 0) console.warn(`tsc -p tsconfig.build.json reported errors:\n${r.stdout.split('\n').slice(0, 5).join('\n')}`);
  if (!existsSync(join(REPO, 'dist/src/commands/run.js'))) throw new Error(`build failed: ${r.stdout}${r.stderr}`);
}, SLOW_TEST_MS);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('trace run: the guest\'s output and status', () => {
  it('hello-musl: stdout and stderr pass through, status 0', () => {
    expect(trace(join(BIN, 'hello-musl'))).toEqual({ status: 0, stdout: 'hello, world\n', stderr: 'hello, stderr\n' });
  });

  it('a relative image path runs too (argv[0] and AT_EXECFN as given, like execve)', () => {
    const r = trace('guests/bin/args-musl');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('argv[0]=guests/bin/args-musl\n');
    expect(r.stdout).toContain('AT_EXECFN=guests/bin/args-musl\n');
  });

  it('segv-musl: status 139 and "Segmentation fault" on stderr, as a shell reports it', () => {
    const r = trace(join(BIN, 'segv-musl'));
    expect(r.status).toBe(139);
    expect(r.stdout).toBe('about to fault\n');
    expect(r.stderr).toBe('Segmentation fault\n');
  });

  it('the guest\'s own non-zero status is the tool\'s status', () => {
    const r = trace(join(BIN, 'readfile-musl'), '--', 'data/missing.txt');
    expect(r.status).toBe(2); // readfile's "missing file" status
    expect(r.stderr).toBe('readfile: cannot open data/missing.txt: No such file or directory\n');
  });

  it('arguments after `--` go to the guest verbatim (flags and a second `--` included)', () => {
    const r = trace(join(BIN, 'args-musl'), 'one', '--', '--env', 'X=1', '--', '', 'two words');
    expect(r.status).toBe(0);
    const argv = r.stdout.split('\n').filter((l) => l.startsWith('argv['));
    expect(argv.slice(1)).toEqual(['argv[1]=one', 'argv[2]=--env', 'argv[3]=X=1', 'argv[4]=--', 'argv[5]=', 'argv[6]=two words']);
    expect(r.stdout).toContain('envp[0]=PATH=/usr/local/bin:/usr/bin:/bin\n'); // --env after `--` was not taken as a flag
  });

  it('--env replaces the default environment (repeatable, before or after the image)', () => {
    const r = trace('--env', 'A=1', '--env', 'B=two words', join(BIN, 'args-musl'), 'x', '--env', 'C=3');
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('envp['))).toEqual(['envp[0]=A=1', 'envp[1]=B=two words', 'envp[2]=C=3']);
    expect(r.stdout).toContain('argv[1]=x\n');
    expect(r.stdout).not.toContain('argv[2]');
  });

  it('--root exposes a host directory as the guest\'s /', () => {
    const r = trace('--root', ROOT, join(BIN, 'readfile-musl'), '--', 'data/input.txt');
    expect(r).toEqual({
      status: 0, stderr: '',
      stdout: 'data/input.txt: size=87 lines=5 checksum=8bb5c087\ndata/sub: 3 entries\n  a.txt\n  b.txt\n  c.dat\n',
    });
    // without --root the guest sees no host files
    expect(trace(join(BIN, 'readfile-musl'), '--', 'data/input.txt').status).toBe(2);
  });

  const busybox = '/bin/busybox';
  if (!existsSync(busybox)) console.warn(`SKIPPED trace run --stdin test: needs ${busybox} (Debian package busybox-static)`);
  it.skipIf(!existsSync(busybox))('--stdin feeds a file to the guest\'s stdin (BusyBox sort, wc)', () => {
    const input = join(dir, 'in.txt');
    writeFileSync(input, 'pear\napple\nfig\n');
    expect(trace(busybox, '--stdin', input, '--', 'sort')).toEqual({ status: 0, stdout: 'apple\nfig\npear\n', stderr: '' });
    expect(trace('--stdin', input, busybox, '--', 'wc', '-l')).toMatchObject({ status: 0, stdout: '3\n' });
  });

  it('--help shows the examples', () => {
    const r = trace('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('EXAMPLES');
    expect(r.stdout).toContain('$ trace run guests/bin/hello-musl');
    expect(r.stdout).toContain('--root');
    expect(r.stdout).toContain('--stdin');
  });
});

describe('trace run: one-line errors with status 2', () => {
  /** The error must be one line on stderr, naming the file, with nothing on stdout. */
  function expectError(r: Result, message: RegExp): void {
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.endsWith('\n')).toBe(true);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^trace run: /);
    expect(r.stderr).toMatch(message);
  }

  it('a missing file', () => {
    expectError(trace(join(dir, 'no-such-program')), /no-such-program: no such file$/m);
  });

  it('a directory', () => {
    expectError(trace(BIN), /guests\/bin: is a directory$/m);
  });

  it('a --rw directory that does not exist, or lies outside the root', () => {
    expectError(trace('--rw', join(dir, 'no-such-dir'), join(BIN, 'hello-musl')), /^trace run: --rw .*no-such-dir: no such directory$/m);
    expectError(trace('--root', join(REPO, 'guests/root'), '--rw', dir, join(BIN, 'hello-musl')), /: not inside the root directory$/m);
  });

  it('a file that is not ELF', () => {
    expectError(trace(join(REPO, 'package.json')), /package\.json: not an ELF file$/m);
  });

  it('a 32-bit ELF executable', () => {
    // an ELF32 i386 ET_EXEC header (what gcc -m32 -static would produce first)
    const h = new Uint8Array(52);
    const dv = new DataView(h.buffer);
    h.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1, 0]); // ELFCLASS32, little-endian
    dv.setUint16(16, 2, true); dv.setUint16(18, 3, true); dv.setUint32(20, 1, true); // ET_EXEC, EM_386
    dv.setUint32(24, 0x8049000, true); dv.setUint32(28, 52, true); dv.setUint16(40, 52, true); dv.setUint16(42, 32, true);
    const path = join(dir, 'elf32');
    writeFileSync(path, h);
    expectError(trace(path), /32-bit/);
  });

  it('a dynamically linked executable whose interpreter is missing', () => {
    // PT_INTERP is looked up in the guest's view: under --root guests/root there is no ld-linux
    const dyn = ['/bin/true', '/usr/bin/true'].find((p) => existsSync(p) && readFileSync(p).includes('ld-linux'));
    if (dyn === undefined) { console.warn('SKIPPED: no dynamically linked /bin/true here'); return; }
    expectError(trace(dyn, '--root', ROOT), /interpreter \/lib64\/ld-linux-x86-64.so.2: no such file/);
  });

  it('a truncated ELF', () => {
    const path = join(dir, 'truncated');
    writeFileSync(path, readFileSync(join(BIN, 'hello-musl')).subarray(0, 3000));
    expectError(trace(path), /truncated: .*beyond the end of the file/);
    const headerOnly = join(dir, 'header-only');
    writeFileSync(headerOnly, readFileSync(join(BIN, 'hello-musl')).subarray(0, 40));
    expectError(trace(headerOnly), /header-only: /);
  });

  it('a --root that is not a directory, a --stdin that does not exist', () => {
    expectError(trace('--root', join(dir, 'nope'), join(BIN, 'hello-musl')), /--root .*nope: not a directory$/m);
    expectError(trace('--stdin', join(dir, 'nope'), join(BIN, 'hello-musl')), /--stdin .*nope: no such file$/m);
  });
});
