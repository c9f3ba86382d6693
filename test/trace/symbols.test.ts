import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { collectSymbols, SymbolTable } from '../../src/trace/symbols.js';

describe('trace symbols', () => {
  const image = new Uint8Array(readFileSync('guests/bin/compute-musl'));
  const table = new SymbolTable(collectSymbols(image, 0n, [{ name: 'entry_SYSCALL_64', address: 0xffffffff80100100n, size: 40 }]));

  it('finds a function by any address it covers, with the offset', () => {
    const main = table.byName('main')[0]!;
    expect(table.lookup(main.address)?.symbol.name).toBe('main');
    expect(table.describe(main.address + 5n)).toBe('main+0x5');
    expect(table.describe(main.address + main.size)).not.toBe(`main+0x${main.size.toString(16)}`);
  });

  it('includes kernel routines and misses gaps', () => {
    expect(table.describe(0xffffffff80100108n)).toBe('entry_SYSCALL_64+0x8');
    expect(table.lookup(0xffffffff80100100n + 40n)).toBeUndefined();
    expect(table.lookup(0x10n)).toBeUndefined();
  });
});
