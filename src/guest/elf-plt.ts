// Names for the PLT stubs of an ELF64 x86-64 file, as binutils gives them (`printf@plt`): each stub of .plt,
// .plt.sec and .plt.got jumps through a GOT slot (`jmp *disp(%rip)`, optionally with a BND prefix); the
// relocation of that slot (R_X86_64_JUMP_SLOT or R_X86_64_GLOB_DAT) names the symbol the stub reaches. PLT0 and
// lazy-binding entries that jump elsewhere get no name.
import { cString } from './c-string.js';

/** A section header, as the symbol reader parsed it. */
export interface ElfSection {
  readonly name: string; // from .shstrtab
  readonly type: number; // sh_type
  readonly addr: bigint; // sh_addr: link-time address
  readonly offset: number; // file offset, -1 if the section lies beyond the file
  readonly size: number; // bytes, -1 if beyond the file
  readonly link: number; // sh_link
  readonly entsize: number; // sh_entsize
}

/** One PLT stub: its link-time address and size, and the symbol it jumps to. */
export interface PltStub {
  readonly address: bigint;
  readonly size: bigint;
  readonly target: string; // the symbol the GOT slot is relocated against (the stub is named `${target}@plt`)
}

const SHT_RELA = 4;
const SHT_NOBITS = 8;
const R_X86_64_GLOB_DAT = 6;
const R_X86_64_JUMP_SLOT = 7;
const RELA_SIZE = 24;
const SYMBOL_SIZE = 24;
const PLT_SECTIONS = ['.plt', '.plt.sec', '.plt.got'];

/** GOT slot address -> symbol name, from every RELA section's JUMP_SLOT and GLOB_DAT relocations. */
function slotNames(bytes: Uint8Array, view: DataView, sections: readonly ElfSection[]): Map<bigint, string> {
  const out = new Map<bigint, string>();
  for (const rela of sections) {
    if (rela.type !== SHT_RELA || rela.offset < 0 || rela.entsize !== RELA_SIZE) continue;
    const symtab = sections[rela.link];
    const strtab = symtab === undefined ? undefined : sections[symtab.link];
    if (symtab === undefined || strtab === undefined || symtab.offset < 0 || strtab.offset < 0) continue;
    for (let at = rela.offset; at + RELA_SIZE <= rela.offset + rela.size; at += RELA_SIZE) {
      const info = view.getBigUint64(at + 8, true);
      const type = Number(info & 0xffffffffn), sym = Number(info >> 32n);
      if ((type !== R_X86_64_JUMP_SLOT && type !== R_X86_64_GLOB_DAT) || sym === 0) continue;
      const symAt = symtab.offset + sym * SYMBOL_SIZE;
      if (symAt + SYMBOL_SIZE > symtab.offset + symtab.size) continue;
      const nameOff = view.getUint32(symAt, true);
      if (nameOff >= strtab.size) continue;
      const name = cString(bytes, strtab.offset + nameOff, strtab.offset + strtab.size);
      if (name !== '') out.set(view.getBigUint64(at, true), name);
    }
  }
  return out;
}

/** The named PLT stubs of the file, in address order. */
export function pltStubs(bytes: Uint8Array, view: DataView, sections: readonly ElfSection[]): PltStub[] {
  const slots = slotNames(bytes, view, sections);
  if (slots.size === 0) return [];
  const out: PltStub[] = [];
  for (const s of sections) {
    if (!PLT_SECTIONS.includes(s.name) || s.offset < 0 || s.type === SHT_NOBITS) continue; // a debug file's .plt has no bytes
    const entry = s.entsize === 8 || s.entsize === 16 ? s.entsize : 16;
    for (let off = 0; off + entry <= s.size; off += entry) {
      // the first `jmp *disp32(%rip)` (ff 25, after an optional endbr64 and BND prefix) in the entry
      for (let k = 0; k + 6 <= entry; k++) {
        const at = s.offset + off + k;
        if (bytes[at] !== 0xff || bytes[at + 1] !== 0x25) continue;
        const next = s.addr + BigInt(off + k + 6);
        const slot = BigInt.asUintN(64, next + BigInt(view.getInt32(at + 2, true)));
        const target = slots.get(slot);
        if (target !== undefined) out.push({ address: s.addr + BigInt(off), size: BigInt(entry), target });
        break;
      }
    }
  }
  return out.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}
