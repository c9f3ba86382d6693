// The registers beyond the general-purpose block, for `trace step --regs all` and the interactive `r all`: the x87
// control, status and tag words with ST0..ST7 (80-bit, stack order), MM0..MM7 (bits 63:0 of the physical x87
// registers R0..R7, which MMX aliases), MXCSR, XCR0, and XMM0..15 or, when XCR0 enables the AVX state, YMM0..15.
import { Off } from '../cpu/state.js';

const hex = (v: number, digits: number): string => (v >>> 0).toString(16).padStart(digits, '0');

/** `bytes` bytes at `off` as one big-endian hex number (most significant first). */
function wide(u8: Uint8Array, off: number, bytes: number): string {
  let s = '';
  for (let k = bytes - 1; k >= 0; k--) s += u8[off + k]!.toString(16).padStart(2, '0');
  return s;
}

/** The lines of the wide-register block of a state buffer. */
export function wideRegisterBlock(u8: Uint8Array): string[] {
  const dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  const w = (off: number): number => dv.getUint32(off, true);
  const top = w(Off.FTOP) & 7, tags = w(Off.FTAG) & 0xffff;
  const fsw = ((w(Off.FSW) & ~0x3800) | (top << 11)) & 0xffff;
  const lines = [`FCW=${hex(w(Off.FCW) & 0xffff, 4)} FSW=${hex(fsw, 4)} TOP=${top} FTW=${hex(tags, 4)} FOP=${hex(w(Off.FOP) & 0x7ff, 3)}`];
  const st: string[] = [];
  for (let i = 0; i < 8; i++) {
    const p = (top + i) & 7, off = Off.ST + 16 * p;
    const empty = ((tags >>> (2 * p)) & 3) === 3;
    // sign/exponent (16 bits) then the 64-bit significand with its explicit integer bit
    st.push(`ST${i}=${empty ? 'empty' : `${wide(u8, off + 8, 2)}_${wide(u8, off, 8)}`}`);
  }
  lines.push(st.slice(0, 4).join(' '), st.slice(4).join(' '));
  const mm: string[] = [];
  for (let i = 0; i < 8; i++) mm.push(`MM${i}=${wide(u8, Off.ST + 16 * i, 8)}`);
  lines.push(mm.slice(0, 4).join(' '), mm.slice(4).join(' '));
  const xcr0 = w(Off.XCR0);
  lines.push(`MXCSR=${hex(w(Off.MXCSR), 8)} XCR0=${hex(xcr0, 8)}`);
  const ymm = (xcr0 & 4) !== 0;
  for (let i = 0; i < 16; i += ymm ? 1 : 2) {
    const one = (n: number): string => ymm
      ? `YMM${n}=${wide(u8, Off.YMMH + 16 * n, 16)}_${wide(u8, Off.XMM + 16 * n, 16)}`
      : `XMM${n}=${wide(u8, Off.XMM + 16 * n, 16)}`;
    lines.push(ymm ? one(i) : `${one(i)} ${one(i + 1)}`);
  }
  return lines;
}
