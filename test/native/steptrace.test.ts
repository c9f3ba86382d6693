// The native single-stepper on the sample guests: it must see the entry state our loader builds (same RIP and
// RSP for the same argv/env), step a system call as one instruction and a REP string instruction per iteration,
// and agree roughly with valgrind's instruction count.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SegmentType, parseElf } from '../../src/guest/elf.js';
import { type LoaderTarget, loadProgram } from '../../src/guest/loader.js';
import { haveTool } from './native-tools.js';
import { STEP_FIELDS, stepTrace, stepValue } from './steptrace.js';

const here = dirname(fileURLToPath(import.meta.url));
const binDir = join(here, '../../guests/bin');
const root = join(here, '../../guests/root');
const env = ['A=1', 'LANG=C'];
const nullTarget: LoaderTarget = { mapFixed() {}, mapStack() {}, setBrkStart() {}, write() {} };

function byteReader(path: string): (addr: bigint) => number | undefined {
  const parsed = parseElf(new Uint8Array(readFileSync(path)));
  if (!parsed.ok) throw new Error(parsed.error);
  const { programHeaders, bytes } = parsed.image;
  return (addr) => {
    const ph = programHeaders.find((p) => p.type === SegmentType.LOAD && addr >= p.vaddr && addr < p.vaddr + p.filesz);
    return ph === undefined ? undefined : bytes[Number(addr - ph.vaddr + ph.offset)];
  };
}

describe('native single-step traces', () => {
  const probe = stepTrace(join(binDir, 'hello-musl'), { env, cwd: root });
  if (!probe.ok) {
    console.warn(`SKIPPED native single-step tests: ${probe.reason}`);
    it.skip(`steptrace (${probe.reason})`, () => {});
    return;
  }

  for (const name of ['hello-musl', 'hello-musl-pie', 'hello-glibc']) {
    it(`${name}: starts where our loader starts, with the registers Linux sets`, () => {
      const path = join(binDir, name);
      const t = name === 'hello-musl' ? probe : stepTrace(path, { env, cwd: root });
      if (!t.ok) throw new Error(t.reason);
      expect(t.exit).toEqual({ kind: 'exit', value: 0 });
      expect(t.stdout.toString()).toBe('hello, world\n');
      expect(t.stderr.toString()).toBe('hello, stderr\n');
      const loaded = loadProgram(readFileSync(path), { target: nullTarget, execPath: path, args: [], env, random: (n) => new Uint8Array(n) });
      if (!loaded.ok) throw new Error(loaded.error);
      expect(stepValue(t, 0, 'rip').toString(16)).toBe(loaded.entry.toString(16));
      expect(stepValue(t, 0, 'rsp').toString(16)).toBe(loaded.sp.toString(16));
      for (const f of STEP_FIELDS) if (f !== 'rip' && f !== 'rsp') expect(stepValue(t, 0, f), f).toBe(f === 'rflags' ? 0x202n : 0n);
    });
  }

  it('steps over a system call in one step and through REP STOS once per iteration', () => {
    const t = probe;
    const byte = byteReader(join(binDir, 'hello-musl'));
    let syscalls = 0, repeats = 0;
    for (let i = 0; i + 1 < t.steps; i++) {
      const rip = stepValue(t, i, 'rip');
      const next = stepValue(t, i + 1, 'rip');
      if (byte(rip) === 0x0f && byte(rip + 1n) === 0x05) {
        syscalls++;
        expect(next).toBe(rip + 2n);
      }
      if (next === rip) {
        repeats++;
        expect([byte(rip), byte(rip + 1n), byte(rip + 2n)]).toEqual([0xf3, 0x48, 0xab]); // rep stosq
        expect(stepValue(t, i + 1, 'rcx')).toBe(stepValue(t, i, 'rcx') - 1n);
      }
    }
    expect(syscalls).toBeGreaterThanOrEqual(4); // the last one, exit_group, has no next record
    expect(repeats).toBeGreaterThan(0);
  });

  it('records the faulting store of segv-musl once, then the process dies of SIGSEGV', () => {
    const t = stepTrace(join(binDir, 'segv-musl'), { env, cwd: root });
    if (!t.ok) throw new Error(t.reason);
    expect(t.exit).toEqual({ kind: 'signal', value: 11 });
    expect(t.stdout.toString()).toBe('about to fault\n');
    const last = stepValue(t, t.steps - 1, 'rip');
    expect(stepValue(t, t.steps - 2, 'rip')).not.toBe(last);
    const byte = byteReader(join(binDir, 'segv-musl'));
    expect(byte(last)).toBe(0xc7); // movl $imm, 0x0: gcc -O2 turns the store through NULL into a store of 0 to address 0, then ud2
  });

  it('counts about as many instructions as valgrind (lackey) for hello-musl', () => {
    if (!haveTool('valgrind')) {
      console.warn('SKIPPED valgrind comparison: valgrind is not installed');
      return;
    }
    const r = spawnSync('env', ['-i', ...env, 'valgrind', '--tool=lackey', join(binDir, 'hello-musl')], { cwd: root, encoding: 'utf8' });
    const m = /guest instrs:\s+([\d,]+)/.exec(r.stderr);
    expect(m).not.toBeNull();
    const lackey = Number(m![1]!.replaceAll(',', ''));
    // valgrind adds 5 environment variables (LD_PRELOAD, ...) that musl's start-up walks, and builds its own auxv.
    expect(Math.abs(lackey - probe.steps)).toBeLessThan(60);
  });
});
