// The guest's address-space layout against the real machine: every brk/mmap/munmap/mremap result of the samples
// equals the one Linux returns natively with randomisation off (strace under `setarch -R`, same argv[0], same
// environment, same directory). The first anonymous mmap lands below the 8 pages Linux gives [vvar] and [vdso]
// (0x7ffff7ff7000-0x7ffff7fff000 for ET_EXEC), which the guest reserves as an inaccessible 'vdso' mapping.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GuestMachine } from '../../src/guest/machine.js';
import { DEFAULT_ENV } from '../../src/guest/run-program.js';
import { haveTool, setarchWorks } from '../native/native-tools.js';

const BIN = resolve('guests/bin');
const ROOT = resolve('guests/root');
const MEMORY_CALLS: Record<number, string> = { 9: 'mmap', 11: 'munmap', 12: 'brk', 25: 'mremap' };

/** "name = result" for each memory system call of a native run (strace's hex for addresses, decimal for 0). */
function nativeCalls(image: string, args: string[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'itrace-strace-'));
  const log = join(dir, 'strace.txt');
  try {
    const r = spawnSync('setarch', ['x86_64', '-R', 'strace', '-qq', '-e', 'trace=mmap,munmap,brk,mremap', '-o', log, image, ...args], {
      cwd: ROOT, env: Object.fromEntries(DEFAULT_ENV.map((e) => e.split('=') as [string, string])),
    });
    if (r.status !== 0) throw new Error(`strace ${image}: status ${r.status}: ${r.stderr.toString()}`);
    return parseStrace(readFileSync(log, 'latin1'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function parseStrace(text: string): string[] {
  return text.split('\n').flatMap((l) => {
    const m = /^(\w+)\(.*\)\s+= (\S+)/.exec(l);
    return m ? [`${m[1]} = ${m[2]}`] : [];
  });
}

function emulatedCalls(image: string, args: string[]): { calls: string[]; vdso: string[] } {
  const devNull = openSync('/dev/null', 'w');
  try {
    return emulatedOn(devNull, image, args);
  } finally {
    closeSync(devNull);
  }
}

function emulatedOn(out: number, image: string, args: string[]): { calls: string[]; vdso: string[] } {
  const m = GuestMachine.create({
    image: new Uint8Array(readFileSync(image)), execPath: image, args, env: DEFAULT_ENV, root: ROOT, stdio: [0, out, out],
  });
  if ('error' in m) throw new Error(m.error);
  const calls: string[] = [];
  const syscall = m.linux.syscall.bind(m.linux);
  m.linux.syscall = (nr, a) => {
    const out = syscall(nr, a);
    const name = MEMORY_CALLS[nr];
    if (name !== undefined && out.kind === 'return') calls.push(`${name} = ${out.value === 0n ? '0' : `0x${out.value.toString(16)}`}`);
    return out;
  };
  const vdso = m.as.vmas.filter((v) => v.kind === 'vdso').map((v) => `${v.start.toString(16)}-${v.end.toString(16)} prot ${v.prot}`);
  expect(m.run()).toEqual({ kind: 'exit', status: 0 });
  return { calls, vdso };
}

const CASES: [string, string[], string][] = [
  ['pages-musl', [], '7ffff7ff7000-7ffff7fff000 prot 0'],
  ['pages-glibc', [], '7ffff7ff7000-7ffff7fff000 prot 0'],
  ['compute-musl', ['10'], '7ffff7ff7000-7ffff7fff000 prot 0'],
  ['readfile-musl', [], '7ffff7ff7000-7ffff7fff000 prot 0'],
  ['hello-musl-pie', [], '7ffff7ff1000-7ffff7ff9000 prot 0'], // below the image at 0x7ffff7ff9000, as natively
];

const strace = haveTool('strace') ? setarchWorks() : { ok: false as const, reason: 'strace is not installed' };
if (!strace.ok) console.warn(`SKIPPED native mmap layout comparison: ${strace.reason}`);

describe.skipIf(!strace.ok)('memory system calls return the native addresses', () => {
  for (const [name, args, vdso] of CASES) {
    it(`${name} ${args.join(' ')}`, () => {
      const image = join(BIN, name);
      const n = nativeCalls(image, args);
      const e = emulatedCalls(image, args);
      expect(e.vdso).toEqual([vdso]);
      if (name !== 'hello-musl-pie') expect(n.length).toBeGreaterThan(0); // hello makes no memory calls
      expect(e.calls).toEqual(n);
    });
  }
});
