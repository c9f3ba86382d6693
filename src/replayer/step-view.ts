// What `trace step` shows of a position: the HyperDbg-style step line, the register block in the `ir` layout, a
// `db`-style memory dump, and the --json object.
import { Off } from '../cpu/state.js';
import { SymbolTable } from '../trace/symbols.js';
import { NO_CODE, StepIndex } from './step-index.js';
import { ReplayState } from './replay-state.js';

/** The --json object of a position. */
export interface StepJson {
  seq: number;
  rip: string;
  ring: number;
  length: number;
  bytes: string;
  disassembly: string;
  symbol: string | null;
  registers: Record<string, string>;
  flags: Record<string, number>;
  /** Thread that ran the step (1 in a trace of format 3). */
  tid: number;
}

/** `00000000`00401000`. */
export function formatAddress(a: bigint): string {
  const h = a.toString(16).padStart(16, '0');
  return `${h.slice(0, 8)}\`${h.slice(8)}`;
}

const GPRS = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const SEGS = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'];
const FLAG_BITS: [string, number][] = [['of', 11], ['df', 10], ['if', 9], ['sf', 7], ['zf', 6], ['pf', 2], ['cf', 0], ['af', 4]];

/** The instruction of step s: bytes and disassembly. */
export function stepInstruction(index: StepIndex, s: number): { rip: bigint; bytes: Uint8Array; text: string } {
  const rip = index.rip(s), c = index.code(s);
  if (c === NO_CODE) return { rip, bytes: new Uint8Array(0), text: '(instruction fetch faulted)' };
  const bytes = index.codeBytes[c]!;
  return { rip, bytes, text: index.codeText[c]! };
}

/** The step line: `seq  ring  address  bytes  disassembly  <symbol+off>`. */
export function stepLine(index: StepIndex, symbols: SymbolTable, s: number): string {
  const ins = stepInstruction(index, s);
  const hex = Array.from(ins.bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
  const sym = symbols.describe(ins.rip);
  const mark = index.faulted(s) ? '  (faulted)' : '';
  // with several threads the line names the step's thread
  const thread = index.threads.single ? '' : `  [tid ${index.threads.tidAt(s)}]`;
  return `${String(s).padStart(10)}${thread}  r${index.cplAt(s)}  ${formatAddress(ins.rip)}  ${hex.padEnd(30)}  ${ins.text.padEnd(32)}${sym !== undefined ? `  <${sym}>` : ''}${mark}`;
}

function reg64(u: Uint32Array, off: number): bigint {
  return (BigInt(u[(off >> 2) + 1]!) << 32n) | BigInt(u[off >> 2]!);
}

/** Register values at the state's position (hex strings, lower-case names). */
export function registers(st: ReplayState): Record<string, string> {
  const u = st.delta.state.u32, out: Record<string, string> = {};
  GPRS.forEach((n, i) => { out[n] = reg64(u, Off.GPR + 8 * i).toString(16).padStart(16, '0'); });
  out.rip = reg64(u, Off.RIP).toString(16).padStart(16, '0');
  out.rflags = (u[Off.RFLAGS >> 2]! >>> 0).toString(16).padStart(8, '0');
  SEGS.forEach((n, i) => { out[n] = (u[(Off.SEL >> 2) + i]! & 0xffff).toString(16).padStart(4, '0'); });
  out.fs_base = reg64(u, Off.FS_BASE).toString(16).padStart(16, '0');
  out.gs_base = reg64(u, Off.GS_BASE).toString(16).padStart(16, '0');
  return out;
}

/** OF DF IF SF ZF PF CF AF as 0/1. */
export function flags(st: ReplayState): Record<string, number> {
  const f = st.delta.state.u32[Off.RFLAGS >> 2]!;
  const out: Record<string, number> = {};
  for (const [n, b] of FLAG_BITS) out[n] = (f >>> b) & 1;
  return out;
}

/** The register block in the `ir` layout. */
export function registerBlock(st: ReplayState): string[] {
  const r = registers(st), f = flags(st);
  const row = (names: string[]): string => names.map((n) => `${n.toUpperCase().padEnd(3)}=${r[n]}`).join(' ');
  return [
    row(['rax', 'rbx', 'rcx']), row(['rdx', 'rsi', 'rdi']), row(['rip', 'rsp', 'rbp']),
    row(['r8', 'r9', 'r10']), row(['r11', 'r12', 'r13']), row(['r14', 'r15']) + ` RFLAGS=${r.rflags}`,
    FLAG_BITS.map(([n]) => `${n.toUpperCase()} ${f[n]}`).join('  '),
    ['cs', 'ss', 'ds', 'es', 'fs', 'gs'].map((n) => `${n.toUpperCase()} ${r[n]}`).join('  ') + `  FS_BASE=${r.fs_base}`,
  ];
}

/** A `db` dump: 16 bytes a line, `??` for unmapped bytes. */
export function memoryDump(st: ReplayState, addr: bigint, len: number): string[] {
  const bytes = st.read(addr, len), out: string[] = [];
  for (let k = 0; k < len; k += 16) {
    const chunk = bytes.slice(k, k + 16);
    const hex = chunk.map((b) => (b === undefined ? '??' : b.toString(16).padStart(2, '0'))).join(' ');
    const asc = chunk.map((b) => (b !== undefined && b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    out.push(`${formatAddress(BigInt.asUintN(64, addr + BigInt(k)))}  ${hex.padEnd(47)}  ${asc}`);
  }
  return out;
}

/** The --json object of the state's position. */
export function stepJson(index: StepIndex, symbols: SymbolTable, st: ReplayState): StepJson {
  const s = st.position, ins = stepInstruction(index, s);
  return {
    seq: s, rip: `0x${ins.rip.toString(16)}`, ring: index.cplAt(s), length: ins.bytes.length,
    bytes: Buffer.from(ins.bytes).toString('hex'), disassembly: ins.text, symbol: symbols.describe(ins.rip) ?? null,
    registers: registers(st), flags: flags(st), tid: index.threads.tidAt(s),
  };
}
