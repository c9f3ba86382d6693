// Function symbols from an ELF64 file's .symtab/.strtab (or .dynsym/.dynstr when the file was stripped), and its
// PLT stubs named `name@plt` (elf-plt.ts), for the replayer and `trace query`. Addresses are link-time: add the
// load bias for a static-PIE.
import { cString } from './c-string.js';
import { type ElfSection, pltStubs } from './elf-plt.js';

/** One function symbol (STT_FUNC or STT_GNU_IFUNC with a defined section). */
export interface ElfSymbol {
  readonly name: string; // symbol name from the string table
  readonly address: bigint; // st_value: link-time virtual address (for an IFUNC: its resolver)
  readonly size: bigint; // st_size in bytes (0 for some assembly routines)
  readonly global: boolean; // STB_GLOBAL or STB_WEAK (false: STB_LOCAL)
  readonly ifunc: boolean; // STT_GNU_IFUNC: the address is a resolver that returns the implementation
  readonly plt?: string; // for a PLT stub (`printf@plt`): the symbol it jumps to (`printf`)
}

export type SymbolsResult =
  // sorted by address, then name; `table`: where the function symbols came from
  | { readonly ok: true; readonly symbols: readonly ElfSymbol[]; readonly table?: 'symtab' | 'dynsym' }
  | { readonly ok: false; readonly error: string };

const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;
const STB_LOCAL = 0;
const SHN_UNDEF = 0;
const SECTION_HEADER_SIZE = 64;
const SYMBOL_SIZE = 24;


/** Reads the function symbols. A file without a symbol table gives an empty list; a corrupt one an error. */
export function readSymbols(bytes: Uint8Array): SymbolsResult {
  if (bytes.length < 64 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    return { ok: false, error: 'not an ELF file' };
  }
  if (bytes[4] !== 2 || bytes[5] !== 1) return { ok: false, error: 'not a little-endian ELF64 file' };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shoff = view.getBigUint64(40, true);
  const shentsize = view.getUint16(58, true);
  const shnum = view.getUint16(60, true);
  if (shoff === 0n || shnum === 0) return { ok: true, symbols: [] };
  if (shentsize !== SECTION_HEADER_SIZE) return { ok: false, error: `bad section header entry size ${shentsize}` };
  if (shoff + BigInt(shnum * SECTION_HEADER_SIZE) > BigInt(bytes.length)) {
    return { ok: false, error: 'section header table extends beyond the end of the file' };
  }

  const sections: ElfSection[] = [];
  const nameOffsets: number[] = [];
  for (let i = 0; i < shnum; i++) {
    const at = Number(shoff) + i * SECTION_HEADER_SIZE;
    const offset = view.getBigUint64(at + 24, true);
    const size = view.getBigUint64(at + 32, true);
    const type = view.getUint32(at + 4, true);
    nameOffsets.push(view.getUint32(at, true));
    const inFile = offset + size <= BigInt(bytes.length);
    sections.push({
      name: '',
      addr: view.getBigUint64(at + 16, true),
      type,
      offset: inFile ? Number(offset) : -1,
      size: inFile ? Number(size) : -1,
      link: view.getUint32(at + 40, true),
      entsize: Number(view.getBigUint64(at + 56, true)),
    });
  }
  const shstr = sections[view.getUint16(62, true)];
  const named = sections.map((s, i) => ({ ...s, name: shstr !== undefined && shstr.offset >= 0 ? sectionName(bytes, shstr, nameOffsets[i] ?? 0) : '' }));
  const symtab = sections.find((s) => s.type === SHT_SYMTAB) ?? sections.find((s) => s.type === SHT_DYNSYM);
  if (symtab === undefined) return { ok: true, symbols: [] };
  const strtab = sections[symtab.link];
  if (symtab.offset < 0 || strtab === undefined || strtab.offset < 0) {
    return { ok: false, error: 'symbol table or its string table extends beyond the end of the file' };
  }
  if (symtab.entsize !== SYMBOL_SIZE) return { ok: false, error: `bad symbol entry size ${symtab.entsize}` };

  const symbols: ElfSymbol[] = [];
  for (let at = symtab.offset; at + SYMBOL_SIZE <= symtab.offset + symtab.size; at += SYMBOL_SIZE) {
    const info = view.getUint8(at + 4);
    const kind = info & 0xf;
    const shndx = view.getUint16(at + 6, true);
    if ((kind !== STT_FUNC && kind !== STT_GNU_IFUNC) || shndx === SHN_UNDEF) continue;
    const nameOffset = view.getUint32(at, true);
    if (nameOffset >= strtab.size) return { ok: false, error: `symbol name offset ${nameOffset} is outside the string table` };
    symbols.push({
      name: cString(bytes, strtab.offset + nameOffset, strtab.offset + strtab.size),
      address: view.getBigUint64(at + 8, true),
      size: view.getBigUint64(at + 16, true),
      global: info >> 4 !== STB_LOCAL,
      ifunc: kind === STT_GNU_IFUNC,
    });
  }
  for (const stub of pltStubs(bytes, view, named)) {
    symbols.push({ name: `${stub.target}@plt`, address: stub.address, size: stub.size, global: false, ifunc: false, plt: stub.target });
  }
  const table = symtab.type === SHT_SYMTAB ? 'symtab' as const : 'dynsym' as const;
  symbols.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { ok: true, symbols, table };
}

/** A section's name from the section-name string table. */
function sectionName(bytes: Uint8Array, shstr: ElfSection, offset: number): string {
  return offset >= shstr.size ? '' : cString(bytes, shstr.offset + offset, shstr.offset + shstr.size);
}
