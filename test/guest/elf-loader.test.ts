// The loader against the layout Linux 6.18 produced for the same samples with setarch -R (docs/linux-layout.md):
// segment mappings and protections, the zeroed tail of the last file page, brk start, static-PIE load bias.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Prot } from '../../src/guest/abi.js';
import { type LoaderTarget, type LoadOptions, loadProgram } from '../../src/guest/loader.js';
import { STACK_TOP } from '../../src/guest/initial-stack.js';

const binDir = join(dirname(fileURLToPath(import.meta.url)), '../../guests/bin');
const sample = (name: string): Uint8Array => new Uint8Array(readFileSync(join(binDir, name)));

interface Recorded {
  maps: { addr: bigint; length: bigint; prot: number; kind: string; bytes: Uint8Array }[];
  stack?: { top: bigint; size: bigint; prot: number };
  brk?: bigint;
  writes: { addr: bigint; bytes: Uint8Array }[];
}

/** A LoaderTarget that records the calls and materialises each mapping's bytes. */
function recorder(): { target: LoaderTarget; rec: Recorded } {
  const rec: Recorded = { maps: [], writes: [] };
  const target: LoaderTarget = {
    mapFixed(addr, length, prot, kind, file, fileOffset, fileLength) {
      const bytes = new Uint8Array(Number(length));
      if (file !== undefined) bytes.set(file.subarray(Number(fileOffset), Number(fileOffset + fileLength)));
      rec.maps.push({ addr, length, prot, kind, bytes });
    },
    mapStack(top, size, prot) { rec.stack = { top, size, prot }; },
    setBrkStart(addr) { rec.brk = addr; },
    write(addr, bytes) { rec.writes.push({ addr, bytes }); },
  };
  return { target, rec };
}

const opts = (target: LoaderTarget): LoadOptions => ({
  target, execPath: './prog', args: [], env: ['A=1'], random: (n) => new Uint8Array(n).fill(7),
});

const R = Prot.READ, W = Prot.WRITE, X = Prot.EXEC;
const hex = (m: Recorded['maps'][number]): [string, string, number, string] => [m.addr.toString(16), (m.addr + m.length).toString(16), m.prot, m.kind];

describe('loadProgram', () => {
  it('maps hello-musl as Linux does', () => {
    const { target, rec } = recorder();
    const r = loadProgram(sample('hello-musl'), opts(target));
    if (!r.ok) throw new Error(r.error);
    // native /proc/PID/maps at the first instruction (setarch -R):
    //   400000-401000 r--p, 401000-403000 r-xp, 403000-404000 r--p, 404000-406000 rw-p (offset 0x3000)
    expect(rec.maps.map(hex)).toEqual([
      ['400000', '401000', R, 'elf'],
      ['401000', '403000', R | X, 'elf'],
      ['403000', '404000', R, 'elf'],
      ['404000', '406000', R | W, 'elf'], // the file part ends in the second page, so no anonymous bss page
    ]);
    expect(r.brkStart).toBe(0x406000n);
    expect(rec.brk).toBe(0x406000n);
    expect(r.loadBias).toBe(0n);
    expect(r.entry).toBe(0x40106bn);
    expect(r.phdr).toBe(0x400040n);
    expect(rec.stack).toEqual({ top: STACK_TOP, size: 8n << 20n, prot: R | W });
    expect(rec.writes).toEqual([{ addr: r.sp, bytes: r.stack.bytes }]);
  });

  it('zeroes the bss part of the last file page and keeps the file bytes before it', () => {
    const file = sample('hello-musl');
    const { target, rec } = recorder();
    const r = loadProgram(file, opts(target));
    if (!r.ok) throw new Error(r.error);
    // PT_LOAD RW: offset 0x3fc0, vaddr 0x404fc0, filesz 0x150, memsz 0x7e8
    const data = rec.maps[3]!;
    expect(data.bytes.subarray(0xfc0, 0xfc0 + 0x150)).toEqual(file.subarray(0x3fc0, 0x3fc0 + 0x150));
    expect(data.bytes.subarray(0, 0xfc0)).toEqual(file.subarray(0x3000, 0x3fc0)); // the page's head comes from the file too
    expect(data.length).toBe(0x2000n);
    expect(data.bytes.subarray(0x1110).every((b) => b === 0)).toBe(true);
    expect(file.subarray(0x4110, 0x5000).some((b) => b !== 0)).toBe(true); // the file has bytes there (symbols...)
  });

  it('keeps the file bytes after a segment without bss (whole file pages are mapped)', () => {
    const file = sample('hello-musl');
    const { target, rec } = recorder();
    loadProgram(file, opts(target));
    const text = rec.maps[1]!; // offset 0x1000, filesz 0x1496, two pages
    expect(text.bytes).toEqual(file.subarray(0x1000, 0x3000));
  });

  it('maps hello-glibc with its bss pages and brk right after them', () => {
    const { target, rec } = recorder();
    const r = loadProgram(sample('hello-glibc'), opts(target));
    if (!r.ok) throw new Error(r.error);
    // native: 4a0000-4a7000 rw-p file, 4a7000-4ac000 rw-p anonymous; brk(NULL) = 0x4ac000
    expect(rec.maps.slice(3).map(hex)).toEqual([['4a0000', '4a7000', R | W, 'elf'], ['4a7000', '4ac000', R | W, 'anon']]);
    expect(r.brkStart).toBe(0x4ac000n);
  });

  it('puts a static-PIE at the top of the mmap area and its brk at ELF_ET_DYN_BASE', () => {
    const { target, rec } = recorder();
    const r = loadProgram(sample('hello-musl-pie'), opts(target));
    if (!r.ok) throw new Error(r.error);
    // native: 7ffff7ff9000-7ffff7fff000 for the image, RIP 0x7ffff7ffa08b, start_brk 0x555555555000
    expect(r.loadBias).toBe(0x7ffff7ff9000n);
    expect(r.entry).toBe(0x7ffff7ffa08bn);
    expect(rec.maps[0]!.addr).toBe(0x7ffff7ff9000n);
    const last = rec.maps[rec.maps.length - 1]!;
    expect(last.addr + last.length).toBe(0x7ffff7fff000n);
    expect(r.brkStart).toBe(0x555555555000n);
    expect(r.phdr).toBe(0x7ffff7ff9040n);
    const older = loadProgram(sample('hello-musl-pie'), { ...opts(recorder().target), staticPieBrk: 'after-bss' });
    expect(older.ok && older.brkStart).toBe(0x7ffff7fff000n);
  });

  it('rejects a bad file without mapping anything', () => {
    const { target, rec } = recorder();
    expect(loadProgram(new Uint8Array(10), opts(target))).toEqual({ ok: false, error: 'not an ELF file' });
    expect(rec.maps).toEqual([]);
    expect(rec.stack).toBeUndefined();
  });
});
