// Shared pieces of the instruction tests: where code and data go in a BareMachine, flag and register
// numbers, running a few bytes of code, and reading/writing little-endian guest memory.
import { Decoder, DecoderOptions } from 'iced-x86';
import type { BareMachine } from '../../src/cpu/bare-machine.js';
import type { RunStatus } from '../../src/cpu/cpu.js';

/** Where test code is loaded. */
export const CODE = 0x1000;
/** A writable scratch data area. */
export const DATA = 0x200000;

export const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, TF = 0x100, IF = 0x200, DF = 0x400, OF = 0x800;
export const OSZAPC = 0x8d5;

/** Register numbers. */
export const RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7, R8 = 8, R9 = 9, R12 = 12, R15 = 15;

/** Load `code` (plus a HLT) at CODE and run `steps` steps. */
export function exec(m: BareMachine, code: number[], steps = 1): RunStatus {
  m.load(CODE, new Uint8Array([...code, 0xf4]));
  m.setRip(CODE);
  m.cpu.lastFault = null;
  return m.cpu.run(steps);
}

/**
 * Encode a legacy-SSE instruction: prefix bytes (0x66/0xF2/0xF3 or none), the 0F opcode bytes, ModRM with reg
 * `r` and rm register `rm` or 'mem' ([rbx]), an optional imm8; `w` sets REX.W.
 */
export function sseEnc(pfx: number[], op: number[], r: number, rm: number | 'mem', imm?: number, w = false): number[] {
  const isMem = rm === 'mem';
  const rex = (w ? 8 : 0) | (((r >> 3) & 1) << 2) | (isMem ? 0 : (rm >> 3) & 1);
  const modrm = isMem ? ((r & 7) << 3) | 3 : 0xc0 | ((r & 7) << 3) | (rm & 7);
  return [...pfx, ...(rex ? [0x40 | rex] : []), 0x0f, ...op, modrm, ...(imm !== undefined ? [imm] : [])];
}

/** Write a little-endian value of `size` bytes. */
export function poke(m: BareMachine, addr: number, size: number, v: bigint): void {
  let x = BigInt.asUintN(size * 8, v);
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) { b[i] = Number(x & 0xffn); x >>= 8n; }
  m.load(addr, b);
}

/** Read a little-endian unsigned value of `size` bytes. */
export function peek(m: BareMachine, addr: number, size: number): bigint {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(m.mem.bytes[addr + i]!);
  return v;
}

/** iced Code (number) of the first instruction of `code` (to check that the bytes encode what a test means). */
export function codeOf(code: number[]): number {
  const bytes = new Uint8Array(code);
  const dec = new Decoder(64, bytes, DecoderOptions.None);
  try {
    return dec.decode().code;
  } finally {
    dec.free();
  }
}
