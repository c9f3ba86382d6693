// The benchmark of real programs (`npm run bench -- programs`): third-party code built from Debian's static
// libraries and binaries (SQLite, Lua, zlib, BusyBox awk/sort/sha256sum, bash-static) plus the bundled compute
// sample, each sized to some 15-30 million instructions, run natively, under qemu-user and through the `trace` CLI in fresh processes (run, record,
// replay --verify, index). Every figure is measured in the same run, and speeds are printed as rates and as
// ratios to qemu-user, because these machines are shared and noisy. CPU seconds (user + system) come from
// /usr/bin/time, which also gives the peak resident memory.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One program of the set. */
interface Program {
  /** Row name. */
  name: string;
  /** Build (or find) the image; a string is why the row is skipped. */
  image: (dir: string, root: string) => string | { skip: string };
  /** Arguments after the image. */
  args: string[];
  /** Bytes for stdin, if any (written to a file beside the build). */
  stdin?: () => Uint8Array;
}

/** What one measured command cost. */
interface Cost {
  /** Wall seconds. */
  wall: number;
  /** CPU seconds (user + system). */
  cpu: number;
  /** Peak resident memory in MB. */
  peakMb: number;
  /** Exit status. */
  status: number;
  /** Standard output. */
  stdout: Buffer;
}

const TIME = '/usr/bin/time';

function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Run a command under /usr/bin/time; its stdin from a file if given. */
function measure(cmd: string[], stdinFile?: string, cwd?: string): Cost {
  const fmtFile = join(tmpdir(), `itrace-bench-time-${process.pid}`);
  const r = spawnSync(TIME, ['-o', fmtFile, '-f', '%e %U %S %M', ...cmd], {
    cwd, input: stdinFile ? readFileSync(stdinFile) : Buffer.alloc(0), maxBuffer: 1 << 28, stdio: ['pipe', 'pipe', 'pipe'],
  });
  const [wall, user, sys, kb] = readFileSync(fmtFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  rmSync(fmtFile, { force: true });
  return { wall: wall!, cpu: user! + sys!, peakMb: kb! / 1024, status: r.status ?? -1, stdout: r.stdout };
}

function gcc(dir: string, out: string, src: string, libs: string[]): string | { skip: string } {
  const exe = join(dir, out);
  if (existsSync(exe)) return exe;
  const r = spawnSync('gcc', ['-O2', '-static', '-o', exe, src, ...libs], { encoding: 'utf8' });
  return r.status === 0 ? exe : { skip: `build failed: ${r.stderr.split('\n')[0]}` };
}

const lib = (name: string): boolean => existsSync(`/usr/lib/x86_64-linux-gnu/${name}`);

function words(n: number): Uint8Array {
  let x = 7, s = '';
  for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) >>> 0; s += `line ${(x >>> 8) % 100000} ${'abcdefghij'[(x >>> 4) % 10]} ${x % 977}\n`; }
  return new TextEncoder().encode(s);
}

const PROGRAMS: Program[] = [
  {
    name: 'sqlite (libsqlite3.a, 600 inserts + queries)', args: ['600'],
    image: (dir, root) => (lib('libsqlite3.a') ? gcc(dir, 'sqlite-bench', join(root, 'bench/programs/sqlite-bench.c'), ['-lsqlite3', '-lm'])
      : { skip: 'libsqlite3.a missing (Debian package libsqlite3-dev)' }),
  },
  {
    name: 'lua (liblua5.4.a, fib 22 + tables + strings)', args: ['22'],
    image: (dir, root) => (lib('liblua5.4.a') ? gcc(dir, 'lua-bench', join(root, 'bench/programs/lua-bench.c'), ['-I/usr/include/lua5.4', '-llua5.4', '-lm'])
      : { skip: 'liblua5.4.a missing (Debian package liblua5.4-dev)' }),
  },
  {
    name: 'zlib (libz.a, 64 KiB at levels 1 and 9)', args: ['65536'],
    image: (dir, root) => (lib('libz.a') ? gcc(dir, 'zlib-bench', join(root, 'bench/programs/zlib-bench.c'), ['-lz'])
      : { skip: 'libz.a missing (Debian package zlib1g-dev)' }),
  },
  { name: 'busybox awk (sum by key, 4000 lines)', args: ['awk', '{ s[$3] += $4 } END { for (k in s) print k, s[k] }'], stdin: () => words(4000), image: () => busybox() },
  { name: 'busybox sort (6000 lines)', args: ['sort'], stdin: () => words(6000), image: () => busybox() },
  { name: 'busybox sha256sum (330 KB)', args: ['sha256sum'], stdin: () => words(20000), image: () => busybox() },
  {
    name: 'bash-static (loops, arrays, strings)', args: ['-s', '--', '400'],
    stdin: () => new Uint8Array(readFileSync(join(ROOT, 'bench/programs/bash-script.sh'))),
    image: () => (existsSync('/bin/bash-static') ? '/bin/bash-static' : { skip: '/bin/bash-static missing (Debian package bash-static)' }),
  },
  { name: 'compute-musl 3000 (bundled sample)', args: ['3000'], image: (_d, root) => join(root, 'guests/bin/compute-musl') },
];

let ROOT = '';

function busybox(): string | { skip: string } {
  return existsSync('/bin/busybox') ? '/bin/busybox' : { skip: '/bin/busybox missing (Debian package busybox-static)' };
}

const f = (x: number, d = 2): string => x.toFixed(d);

/** Run the whole set and print one block per program and a summary table. */
export function benchPrograms(root: string, only?: string): void {
  ROOT = root;
  if (!existsSync(TIME)) { console.log('programs: skipped: /usr/bin/time missing (Debian package time)'); return; }
  const qemu = which('qemu-x86_64-static') ?? which('qemu-x86_64');
  const dir = join(tmpdir(), 'itrace-bench-programs');
  mkdirSync(dir, { recursive: true });
  const cli = [process.execPath, '--max-semi-space-size=32', join(root, 'bin/run.js')];
  const rows: string[][] = [];
  for (const p of PROGRAMS) {
    if (only && !p.name.includes(only)) continue;
    const image = p.image(dir, root);
    if (typeof image !== 'string') { console.log(`${p.name}: skipped: ${image.skip}`); continue; }
    let stdinFile: string | undefined;
    if (p.stdin) { stdinFile = join(dir, `${p.name.split(' ')[0]}-${p.args[0]}.stdin`); writeFileSync(stdinFile, p.stdin()); }
    const stdinFlag = stdinFile ? ['--stdin', stdinFile] : [];
    const trace = join(dir, `trace-${process.pid}`); // per process: other benchmark runs may share the folder
    rmSync(trace, { recursive: true, force: true });
    const native = measure([image, ...p.args], stdinFile);
    const q = qemu ? measure([qemu, image, ...p.args], stdinFile) : undefined;
    const run = measure([...cli, 'run', image, ...stdinFlag, '--', ...p.args]);
    const rec = measure([...cli, 'record', image, '-o', trace, ...stdinFlag, '--', ...p.args]);
    const info = spawnSync(cli[0]!, [...cli.slice(1), 'info', trace, '--json'], { encoding: 'utf8' });
    let steps = 0, bytes = 0;
    try {
      const j = JSON.parse(info.stdout) as { steps?: number; bytes?: number; totalBytes?: number; tables?: { bytes?: number }[] };
      steps = Number(j.steps ?? 0);
      bytes = Number(j.bytes ?? j.totalBytes ?? (j.tables ?? []).reduce((a, t) => a + Number(t.bytes ?? 0), 0));
    } catch { /* reported below as 0 */ }
    const verify = measure([...cli, 'replay', trace, '--verify']);
    const index = measure([...cli, 'index', trace]);
    const same = run.stdout.equals(native.stdout) && rec.stdout.equals(native.stdout) && run.status === native.status;
    const ms = (c: Cost): string => `${f(c.wall)} s wall, ${f(c.cpu)} CPU-s`;
    const rate = (c: Cost): number => steps / Math.max(c.cpu, 1e-3) / 1e6;
    console.log(`\n== ${p.name} ==  ${steps.toLocaleString('en-US')} steps; output ${same ? 'identical to native' : 'DIFFERS from native'}`);
    console.log(`  native                 ${ms(native)}`);
    if (q) console.log(`  qemu-user              ${ms(q)}  (${f(steps / Math.max(q.cpu, 1e-3) / 1e6, 0)} M steps per CPU-s)`);
    const vsQemu = (c: Cost): string => (q ? `; ${f(c.cpu / Math.max(q.cpu, 1e-3), 1)}x qemu's CPU time` : '');
    console.log(`  trace run              ${ms(run)}  ${f(rate(run))} M steps per CPU-s${vsQemu(run)}; peak ${f(run.peakMb, 0)} MB`);
    console.log(`  trace record           ${ms(rec)}  ${f(rate(rec))} M steps per CPU-s${vsQemu(rec)}; peak ${f(rec.peakMb, 0)} MB; ${f(bytes / Math.max(steps, 1))} bytes/step`);
    console.log(`  trace replay --verify  ${ms(verify)}  ${f(rate(verify))} M steps per CPU-s${verify.status === 0 ? '' : ` (status ${verify.status})`}`);
    console.log(`  trace index            ${ms(index)}  ${f(rate(index))} M steps per CPU-s${index.status === 0 ? '' : ` (status ${index.status})`}`);
    rows.push([p.name.split(' (')[0]!, steps.toLocaleString('en-US'), f(native.wall, 3), q ? f(q.cpu) : '-', f(rate(run)), q ? f(run.cpu / Math.max(q.cpu, 1e-3), 0) : '-',
      f(rate(rec)), f(rate(verify)), f(rate(index)), f(bytes / Math.max(steps, 1)), f(rec.peakMb, 0), same ? 'yes' : 'NO']);
    rmSync(trace, { recursive: true, force: true });
  }
  const head = ['program', 'steps', 'native s', 'qemu CPU-s', 'run M/CPU-s', 'run/qemu', 'record M/CPU-s', 'verify M/CPU-s', 'index M/CPU-s', 'B/step', 'rec peak MB', 'same output'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  console.log('\n' + head.map((h, i) => h.padEnd(widths[i]!)).join('  '));
  for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
}
