// CRC32 (SSE4.2, SDM vol. 2 "CRC32"): accumulate CRC-32C (Castagnoli, polynomial 11EDC6F41h, bit-reflected, no
// pre- or post-inversion) of an 8/16/32/64-bit source into the low 32 bits of the destination register, which
// is written zero-extended (r64 forms too).
import { Code } from 'iced-x86';
import type { Builder, Exec } from '../cpu.js';
import type { Decoded } from '../decoded.js';
import { OpType } from '../decoded.js';
import { eaOf, memOf, regOf } from '../operands.js';
import type { OpMap } from '../table.js';

/** CRC-32C of one byte for every byte value (reflected polynomial 82F63B78h). */
const TABLE = new Uint32Array(256).map((_, b) => {
  let c = b;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  return c >>> 0;
});

/** Feed the low `bytes` bytes of v (little-endian) into crc. */
function feed(crc: number, v: number, bytes: number): number {
  for (let i = 0; i < bytes; i++) { crc = (crc >>> 8) ^ TABLE[(crc ^ v) & 0xff]!; v >>>= 8; }
  return crc >>> 0;
}

/** CRC32 r32/r64, r/m of `size` bytes. */
function crc32(size: number): Builder {
  return (d: Decoded): Exec => {
    const g = regOf(d, 0).n << 1;
    if (d.ops[1] === OpType.REG) {
      const r = regOf(d, 1), s = (r.n << 1);
      const b = r.high8 ? (r.n << 3) + 1 : r.n << 3; // byte offset of an 8-bit source
      return (c) => {
        const u = c.r;
        let crc = u[g]!;
        if (size === 1) crc = feed(crc, c.s.u8[b]!, 1);
        else if (size === 2) crc = feed(crc, c.s.u16[r.n << 2]!, 2);
        else { crc = feed(crc, u[s]!, 4); if (size === 8) crc = feed(crc, u[s + 1]!, 4); }
        u[g] = crc; u[g + 1] = 0;
      };
    }
    const ea = eaOf(memOf(d));
    return (c) => {
      const lo = ea(c), hi = c.hi, u = c.r;
      let crc = u[g]!;
      if (size === 1) crc = feed(crc, c.rd8(lo, hi), 1);
      else if (size === 2) crc = feed(crc, c.rd16(lo, hi), 2);
      else if (size === 4) crc = feed(crc, c.rd32(lo, hi), 4);
      else { const v = c.rd64(lo, hi), vh = c.hi; crc = feed(feed(crc, v, 4), vh, 4); }
      u[g] = crc; u[g + 1] = 0;
    };
  };
}

/** CRC32 handlers keyed by iced Code. */
export const crc32Ops: OpMap = {
  [Code.Crc32_r32_rm8]: crc32(1),
  [Code.Crc32_r64_rm8]: crc32(1),
  [Code.Crc32_r32_rm16]: crc32(2),
  [Code.Crc32_r32_rm32]: crc32(4),
  [Code.Crc32_r64_rm64]: crc32(8),
};
