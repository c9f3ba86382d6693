// The byte-masked store of MASKMOVQ and MASKMOVDQU: the bytes of a register whose mask byte has bit 7 set are
// stored at [RDI] ([EDI] with a 67h prefix), after checking that the first and last selected bytes are writable.
import type { Cpu } from '../cpu.js';
import type { Decoded } from '../decoded.js';
import { Access } from '../mmu.js';
import { prefixesOf } from './string.js';

/** c.r index of RDI's low half. */
const RDI = 7 << 1;

/** The store of `bytes` lanes for `d`: data and mask are byte offsets of the registers in the state buffer. */
export function maskedStore(d: Decoded, bytes: number): (c: Cpu, data: number, mask: number) => void {
  const { a32 } = prefixesOf(d);
  /** Linear address of byte i: lo returned, hi in c.hi. */
  const at = (c: Cpu, i: number): number => {
    const s = c.r[RDI]! + i;
    c.hi = a32 ? 0 : (c.r[RDI + 1]! + (s > 0xffffffff ? 1 : 0)) >>> 0;
    return s >>> 0;
  };
  return (c, data, mask) => {
    const u = c.s.u8;
    let first = -1, last = -1;
    for (let i = 0; i < bytes; i++) if (u[mask + i]! & 0x80) { if (first < 0) first = i; last = i; }
    if (first < 0) return;
    let lo = at(c, first);
    c.translate(lo, c.hi, Access.WRITE);
    lo = at(c, last);
    c.translate(lo, c.hi, Access.WRITE);
    for (let i = first; i <= last; i++) if (u[mask + i]! & 0x80) { lo = at(c, i); c.wr8(lo, c.hi, u[data + i]!); }
  };
}
