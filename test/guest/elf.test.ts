// ELF parsing of every sample guest, the rejection messages for hand-corrupted copies, and symbols.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ElfType, SegmentFlags, SegmentType, parseElf, readSymbols } from '../../src/guest/elf.js';

const binDir = join(dirname(fileURLToPath(import.meta.url)), '../../guests/bin');
const samples = readdirSync(binDir).sort();
const sample = (name: string): Uint8Array => new Uint8Array(readFileSync(join(binDir, name)));

function errorOf(bytes: Uint8Array): string {
  const r = parseElf(bytes);
  if (r.ok) throw new Error('expected a parse error');
  return r.error;
}

/** A copy of `bytes` with `edit` applied through a DataView. */
function patched(bytes: Uint8Array, edit: (v: DataView, b: Uint8Array) => void): Uint8Array {
  const copy = bytes.slice();
  edit(new DataView(copy.buffer), copy);
  return copy;
}

/** File offset of the program header with index i. */
function phAt(bytes: Uint8Array, i: number): number {
  const v = new DataView(bytes.buffer, bytes.byteOffset);
  return Number(v.getBigUint64(32, true)) + i * 56;
}

describe('parseElf on the sample guests', () => {
  it('finds all the samples', () => {
    expect(samples.length).toBeGreaterThanOrEqual(13);
    expect(samples).toContain('hello-musl-pie');
  });

  for (const name of samples) {
    it(`parses ${name}`, () => {
      const r = parseElf(sample(name));
      if (!r.ok) throw new Error(r.error);
      const { header, programHeaders, isPie } = r.image;
      expect(header.type).toBe(name.endsWith('-pie') ? ElfType.DYN : ElfType.EXEC);
      expect(isPie).toBe(name.endsWith('-pie'));
      expect(header.phnum).toBe(programHeaders.length);
      const loads = programHeaders.filter((ph) => ph.type === SegmentType.LOAD);
      expect(loads.length).toBeGreaterThanOrEqual(2);
      const text = loads.find((ph) => header.entry >= ph.vaddr && header.entry < ph.vaddr + ph.memsz);
      expect(text?.flags).toBe(SegmentFlags.R | SegmentFlags.X);
      if (!isPie) expect(loads[0]!.vaddr).toBe(0x400000n);
      expect(r.image.executableStack).toBe(false);
    });
  }
});

describe('parseElf rejects bad input with a one-line message', () => {
  const hello = sample('hello-musl');
  const cases: [string, Uint8Array, RegExp][] = [
    ['empty file', new Uint8Array(0), /^not an ELF file$/],
    ['text file', new TextEncoder().encode('#!/bin/sh\necho hi\n'), /^not an ELF file$/],
    ['truncated header', hello.slice(0, 40), /^truncated ELF header/],
    ['32-bit', patched(hello, (_, b) => { b[4] = 1; }), /^32-bit ELF files are not supported/],
    ['big-endian', patched(hello, (_, b) => { b[5] = 2; }), /big-endian/],
    ['i386 machine', patched(hello, (v) => v.setUint16(18, 3, true)), /^not an x86-64 executable \(e_machine 3\)$/],
    ['aarch64 machine', patched(hello, (v) => v.setUint16(18, 183, true)), /e_machine 183/],
    ['ET_REL', patched(hello, (v) => v.setUint16(16, ElfType.REL, true)), /ET_REL/],
    ['ET_CORE', patched(hello, (v) => v.setUint16(16, ElfType.CORE, true)), /ET_CORE/],
    ['program headers past the end', patched(hello, (v) => v.setBigUint64(32, BigInt(hello.length - 56), true)), /program header table .* extends beyond the end of the file/],
    ['file cut inside the program headers', hello.slice(0, 64 + 56 * 2), /program header table .* extends beyond the end of the file/],
    ['segment past the end', patched(hello, (v) => { v.setBigUint64(phAt(hello, 0) + 32, BigInt(hello.length), true); v.setBigUint64(phAt(hello, 0) + 40, BigInt(hello.length), true); v.setBigUint64(phAt(hello, 0) + 8, 0x1000n, true); v.setBigUint64(phAt(hello, 0) + 16, 0x401000n, true); }), /^segment 0 .* extends beyond the end of the file$/],
    ['file cut inside a segment', hello.slice(0, 0x2000), /^segment 1 .* extends beyond the end of the file$/],
    ['filesz > memsz', patched(hello, (v) => v.setBigUint64(phAt(hello, 0) + 40, 1n, true)), /p_filesz .* > p_memsz/],
    ['bad phentsize', patched(hello, (v) => v.setUint16(54, 32, true)), /program header entry size 32/],
    ['no program headers', patched(hello, (v) => v.setUint16(56, 0, true)), /^no program headers$/],
  ];
  for (const [what, bytes, message] of cases) {
    it(what, () => {
      const error = errorOf(bytes);
      expect(error).toMatch(message);
      expect(error).not.toContain('\n');
    });
  }

  it('reads the interpreter of a dynamically linked executable', () => {
    // Turn hello-glibc's PT_NOTE into a PT_INTERP pointing at a path written over the note.
    const glibc = sample('hello-glibc');
    const r = parseElf(glibc);
    if (!r.ok) throw new Error(r.error);
    const index = r.image.programHeaders.findIndex((ph) => ph.type === SegmentType.NOTE);
    expect(index).toBeGreaterThanOrEqual(0);
    const note = r.image.programHeaders[index]!;
    const path = new TextEncoder().encode('/lib64/ld-linux-x86-64.so.2\0');
    const bad = patched(glibc, (v, b) => {
      v.setUint32(phAt(glibc, index), SegmentType.INTERP, true);
      v.setBigUint64(phAt(glibc, index) + 32, BigInt(path.length), true);
      b.set(path, Number(note.offset));
    });
    const parsed = parseElf(bad);
    expect(parsed.ok && parsed.image.interpreter).toBe('/lib64/ld-linux-x86-64.so.2');
    const unterminated = patched(bad, (v) => v.setBigUint64(phAt(glibc, index) + 32, BigInt(path.length - 1), true));
    expect(errorOf(unterminated)).toMatch(/PT_INTERP\) is not a NUL-terminated path/);
  });

  it('never throws on random corruption', () => {
    let seed = 12345;
    const next = (): number => (seed = (seed * 1103515245 + 12345) >>> 0);
    for (let i = 0; i < 500; i++) {
      const copy = hello.slice(0, 64 + 56 * 12);
      for (let k = 0; k < 4; k++) copy[16 + (next() % (copy.length - 16))] = next() & 0xff;
      expect(() => parseElf(copy)).not.toThrow();
      expect(() => readSymbols(copy)).not.toThrow();
    }
  });
});

describe('readSymbols', () => {
  for (const name of ['compute-musl', 'compute-glibc', 'hello-musl-pie']) {
    it(`lists the functions of ${name}`, () => {
      const r = readSymbols(sample(name));
      if (!r.ok) throw new Error(r.error);
      const byName = new Map(r.symbols.map((s) => [s.name, s]));
      const main = byName.get('main');
      expect(main?.size).toBeGreaterThan(0n);
      expect(main?.global).toBe(true);
      const parsed = parseElf(sample(name));
      if (!parsed.ok) throw new Error(parsed.error);
      const text = parsed.image.programHeaders.find((ph) => ph.type === SegmentType.LOAD && (ph.flags & SegmentFlags.X) !== 0)!;
      expect(main!.address >= text.vaddr && main!.address < text.vaddr + text.memsz).toBe(true);
      if (name.startsWith('compute')) {
        expect(byName.has('qsort')).toBe(true);
        expect(byName.get('merge_sort')?.global).toBe(false);
      }
      for (let i = 1; i < r.symbols.length; i++) expect(r.symbols[i]!.address >= r.symbols[i - 1]!.address).toBe(true);
    });
  }

  it('marks glibc IFUNC symbols', () => {
    const r = readSymbols(sample('hello-glibc'));
    if (!r.ok) throw new Error(r.error);
    expect(r.symbols.some((s) => s.ifunc && s.name === 'memcpy')).toBe(true);
  });

  it('returns an empty list for a file without section headers and an error for a non-ELF', () => {
    const stripped = patched(sample('hello-musl'), (v) => { v.setBigUint64(40, 0n, true); v.setUint16(60, 0, true); });
    expect(readSymbols(stripped)).toEqual({ ok: true, symbols: [] });
    expect(readSymbols(new Uint8Array(100))).toEqual({ ok: false, error: 'not an ELF file' });
  });
});
