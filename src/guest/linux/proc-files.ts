// The contents of the generated files of /proc and /sys: /proc/self/maps (from the address space's mappings, as
// Linux formats them), /proc/self/cmdline, /proc/cpuinfo and /sys/devices/system/cpu/{online,possible}, all
// consistent with the emulated machine: one CPU, the CPUID model of src/cpu/cpuid.ts.
import { cpuid } from '../../cpu/cpuid.js';
import { Prot } from '../abi.js';

/** One mapping as /proc/self/maps shows it. */
export interface MapsEntry {
  readonly start: bigint;
  readonly end: bigint;
  readonly prot: number; // Prot bits
  readonly offset: bigint; // file offset of `start` (0 for anonymous memory)
  readonly name: string; // file path, "[heap]", "[stack]", or "" for anonymous memory
}

const hex = (v: bigint, width: number): string => v.toString(16).padStart(width, '0');

/** /proc/self/maps: "start-end perms offset dev inode" padded to 73 columns, then the name (show_map_vma). */
export function formatMaps(entries: readonly MapsEntry[]): string {
  return entries.map((e) => {
    const perms = `${e.prot & Prot.READ ? 'r' : '-'}${e.prot & Prot.WRITE ? 'w' : '-'}${e.prot & Prot.EXEC ? 'x' : '-'}p`;
    const head = `${hex(e.start, 8)}-${hex(e.end, 8)} ${perms} ${hex(e.offset, 8)} 00:00 0`;
    return e.name === '' ? `${head} \n` : `${head.padEnd(72)} ${e.name}\n`;
  }).join('');
}

/** /proc/self/cmdline: every argument NUL-terminated. */
export function formatCmdline(argv: readonly string[]): Uint8Array {
  return new Uint8Array(Buffer.from(argv.map((a) => `${a}\0`).join(''), 'utf8'));
}

/** Names of CPUID.1:EDX and CPUID.1:ECX bits as /proc/cpuinfo spells them (the ones the model can set). */
const EDX_FLAGS: [number, string][] = [
  [0, 'fpu'], [3, 'pse'], [4, 'tsc'], [5, 'msr'], [6, 'pae'], [8, 'cx8'], [13, 'pge'], [15, 'cmov'], [19, 'clflush'],
  [23, 'mmx'], [24, 'fxsr'], [25, 'sse'], [26, 'sse2'],
];
const ECX_FLAGS: [number, string][] = [
  [0, 'pni'], [9, 'ssse3'], [13, 'cx16'], [19, 'sse4_1'], [20, 'sse4_2'], [22, 'movbe'], [23, 'popcnt'], [26, 'xsave'],
  [28, 'avx'], [30, 'rdrand'],
];
const EXT_EDX_FLAGS: [number, string][] = [[11, 'syscall'], [20, 'nx'], [27, 'rdtscp'], [29, 'lm']];
const EXT_ECX_FLAGS: [number, string][] = [[0, 'lahf_lm']];

function bits(value: number, names: readonly [number, string][]): string[] {
  return names.filter(([b]) => ((value >>> b) & 1) === 1).map(([, n]) => n);
}

/** /proc/cpuinfo for the one emulated processor, from its CPUID leaves. */
export function formatCpuinfo(): string {
  const text = (regs: number[]): string => Buffer.from(Uint32Array.from(regs).buffer).toString('latin1');
  const [, b0, c0, d0] = cpuid(0, 0);
  const [a1, , c1, d1] = cpuid(1, 0);
  const [, , ce, de] = cpuid(0x80000001, 0);
  const brand = [0x80000002, 0x80000003, 0x80000004].map((l) => text(cpuid(l, 0))).join('').replace(/\0+$/, '').trim();
  const family = ((a1! >>> 8) & 0xf) + (((a1! >>> 8) & 0xf) === 0xf ? (a1! >>> 20) & 0xff : 0);
  const model = ((a1! >>> 4) & 0xf) | (((a1! >>> 16) & 0xf) << 4);
  const flags = [...bits(d1!, EDX_FLAGS), ...bits(de!, EXT_EDX_FLAGS), ...bits(c1!, ECX_FLAGS), ...bits(ce!, EXT_ECX_FLAGS)];
  const lines: [string, string][] = [
    ['processor', '0'], ['vendor_id', text([b0!, d0!, c0!])], ['cpu family', String(family)], ['model', String(model)],
    ['model name', brand], ['stepping', String(a1! & 0xf)], ['physical id', '0'], ['siblings', '1'], ['core id', '0'],
    ['cpu cores', '1'], ['apicid', '0'], ['fpu', 'yes'], ['cpuid level', String(b0 === undefined ? 0 : cpuid(0, 0)[0])],
    ['flags', flags.join(' ')], ['clflush size', '64'], ['cache_alignment', '64'], ['address sizes', '48 bits virtual'],
  ];
  return lines.map(([k, v]) => `${k.padEnd(16)}: ${v}\n`).join('') + '\n';
}

/** /sys/devices/system/cpu/online and possible: one CPU. */
export const CPU_LIST = '0\n';
