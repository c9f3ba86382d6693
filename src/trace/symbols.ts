// Function symbols of a trace: the program's (from its ELF symbol table, with the load bias applied) and the
// guest kernel's routines. Written as symbols.json when recording, so a trace names its code on its own; the file
// carries its own checksum (sealed-json.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSymbols } from '../guest/elf.js';
import { sealJson, unsealJson } from './sealed-json.js';
import { writeFileAtomic } from './trace-writer.js';

/** One function symbol. */
export interface TraceSymbol {
  /** Symbol name. */
  name: string;
  /** Linear start address. */
  address: bigint;
  /** Size in bytes (0 when the ELF gives none: then it covers up to the next symbol). */
  size: bigint;
  /** Where it comes from. */
  source: 'elf' | 'kernel';
  /** File name of the module (ELF file) it belongs to, for `module!symbol` (absent for the kernel and old traces). */
  module?: string;
}

/** The suffix of a PLT stub's name (`printf@plt`, as binutils names them). */
export const PLT_SUFFIX = '@plt';

/** A symbol and the offset of an address within it. */
export interface SymbolHit {
  /** The symbol. */
  symbol: TraceSymbol;
  /** Address minus the symbol's start. */
  offset: bigint;
}

/** Sorted symbols with address lookup. */
export class SymbolTable {
  /** Symbols sorted by address (one per address: globals preferred over locals of the same address). */
  readonly symbols: readonly TraceSymbol[];
  private readonly starts: BigUint64Array;
  /** Names defined in more than one module: shown as `module!name`. */
  private readonly ambiguous = new Set<string>();
  /** Every symbol, aliases at one address included (byName finds `write` though `__write` names the address). */
  private readonly all: readonly TraceSymbol[];

  constructor(symbols: readonly TraceSymbol[]) {
    this.all = symbols;
    const modulesOf = new Map<string, Set<string>>();
    for (const s of symbols) {
      if (s.module === undefined) continue;
      const m = modulesOf.get(s.name) ?? new Set<string>();
      m.add(s.module);
      modulesOf.set(s.name, m);
    }
    for (const [name, m] of modulesOf) if (m.size > 1) this.ambiguous.add(name);
    const byAddr = new Map<bigint, TraceSymbol>();
    for (const s of symbols) if (!byAddr.has(s.address) || (byAddr.get(s.address)!.size === 0n && s.size > 0n)) byAddr.set(s.address, s);
    this.symbols = [...byAddr.values()].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
    this.starts = BigUint64Array.from(this.symbols.map((s) => s.address));
  }

  /** The symbol covering `addr` (a sized symbol must contain it; an unsized one extends to the next symbol). */
  lookup(addr: bigint): SymbolHit | undefined {
    let lo = 0, hi = this.starts.length - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid]! <= addr) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    if (found < 0) return undefined;
    const s = this.symbols[found]!;
    const offset = addr - s.address;
    if (s.size > 0n && offset >= s.size) return undefined;
    if (s.size === 0n && found + 1 < this.starts.length && addr >= this.starts[found + 1]!) return undefined;
    return { symbol: s, offset };
  }

  /** Symbols with this exact name, or `module!name` (WinDbg style) for the one in that module. */
  byName(name: string): TraceSymbol[] {
    const bang = name.indexOf('!');
    if (bang > 0) {
      const module = name.slice(0, bang), bare = name.slice(bang + 1);
      return this.all.filter((s) => s.name === bare && s.module === module);
    }
    return this.all.filter((s) => s.name === name);
  }

  /** A symbol's name as shown: `module!name` when several modules define the name, else the name. */
  label(s: TraceSymbol): string {
    return s.module !== undefined && this.ambiguous.has(s.name) ? `${s.module}!${s.name}` : s.name;
  }

  /**
   * The name a call to `addr` counts as: the label of the symbol covering it, except that a PLT stub (`printf@plt`)
   * counts as the function it jumps to (`printf`, found as the dynamic linker finds it: the first module, in load
   * order, that defines it), so that `calls` and the diff's profile count calls through the PLT as calls of it.
   */
  callee(addr: bigint): string | undefined {
    const h = this.lookup(addr);
    if (h === undefined) return undefined;
    const name = h.symbol.name;
    if (!name.endsWith(PLT_SUFFIX)) return this.label(h.symbol);
    const target = name.slice(0, -PLT_SUFFIX.length);
    const def = this.all.find((s) => s.name === target && s.module !== undefined);
    return def !== undefined ? this.label(def) : target;
  }

  /** `name+0x10` (or `module!name+0x10`) style text for an address, or undefined. */
  describe(addr: bigint): string | undefined {
    const h = this.lookup(addr);
    if (h === undefined) return undefined;
    const name = this.label(h.symbol);
    return h.offset === 0n ? name : `${name}+0x${h.offset.toString(16)}`;
  }
}

/** Collect the symbols of a program image (load bias applied) and of the kernel. */
export function collectSymbols(image: Uint8Array, loadBias: bigint, kernel: readonly { name: string; address: bigint; size: number }[]): TraceSymbol[] {
  const out: TraceSymbol[] = [];
  const elf = readSymbols(image);
  if (elf.ok) for (const s of elf.symbols) out.push({ name: s.name, address: s.address + loadBias, size: s.size, source: 'elf' });
  for (const k of kernel) out.push({ name: k.name, address: k.address, size: BigInt(k.size), source: 'kernel' });
  return out;
}

interface SymbolJson { name: string; address: string; size: string; source: 'elf' | 'kernel'; module?: string }

/** Write symbols.json into a trace directory (atomically, with its checksum). */
export function writeSymbols(dir: string, symbols: readonly TraceSymbol[]): void {
  const rows: SymbolJson[] = symbols.map((s) => ({
    name: s.name, address: s.address.toString(16), size: s.size.toString(), source: s.source, ...(s.module !== undefined ? { module: s.module } : {}),
  }));
  writeFileAtomic(join(dir, 'symbols.json'), sealJson({ symbols: rows }));
}

/** The symbols of symbols.json in a trace directory, or what is wrong with the file. */
export function loadTraceSymbols(dir: string): TraceSymbol[] | { error: string } {
  const path = join(dir, 'symbols.json');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return { error: `${path}: missing` };
  }
  const o = unsealJson(text);
  if ('error' in o) return { error: `${path}: ${o.error}` };
  const rows = o.symbols;
  if (!Array.isArray(rows)) return { error: `${path}: no symbol list` };
  try {
    return (rows as SymbolJson[]).map((r) => ({
      name: r.name, address: BigInt(`0x${r.address}`), size: BigInt(r.size), source: r.source, ...(r.module !== undefined ? { module: r.module } : {}),
    }));
  } catch (e) {
    return { error: `${path}: ${(e as Error).message}` };
  }
}

/** Read symbols.json of a trace directory (an empty table if it is missing or damaged: trace checks report that). */
export function readTraceSymbols(dir: string): SymbolTable {
  const s = loadTraceSymbols(dir);
  return new SymbolTable('error' in s ? [] : s);
}
