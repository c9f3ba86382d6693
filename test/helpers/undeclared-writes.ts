// Checks the written-register facts (src/cpu/written-state.ts) against what a handler really did: the registers
// of the trace that one instruction changed but that its written state does not cover. The recorder compares
// only the covered ones after the instruction, so an uncovered change would land in a later step's rows.
import { Decoder, DecoderOptions, Instruction } from 'iced-x86';
import { Decoded, fromIced } from '../../src/cpu/decoded.js';
import { Tier } from '../../src/cpu/step-log.js';
import { writtenState, xmmMask } from '../../src/cpu/written-state.js';
import { REGISTERS, RIP_ID } from '../../src/trace/registers.js';

const ins = new Instruction();

/** The Decoded of the instruction in `bytes` at linear address `ip`. */
export function decodeAt(bytes: Uint8Array, ip: number): Decoded {
  const dec = new Decoder(64, bytes, DecoderOptions.None);
  try {
    dec.ip = BigInt(ip);
    dec.decodeOut(ins);
    return fromIced(ins, bytes.subarray(0, ins.length));
  } finally {
    dec.free();
  }
}

/** Names of the registers of the trace (RIP aside) that differ between the states `before` and `after`. */
export function changedRegisters(before: Uint32Array, after: Uint32Array): string[] {
  return REGISTERS.filter((slot) => {
    const w = slot.off >> 2;
    return slot.id !== RIP_ID && (before[w] !== after[w] || (slot.bytes === 8 && before[w + 1] !== after[w + 1]));
  }).map((slot) => slot.name);
}

/** Names of the registers that differ between the states `before` and `after` (32-bit views, flags materialised) and that `d` does not declare. */
export function undeclaredWrites(d: Decoded, before: Uint32Array, after: Uint32Array): string[] {
  const { gprs, tier } = writtenState(d);
  if (tier & Tier.ALL) return [];
  const xmm = xmmMask(tier), out: string[] = [];
  for (const slot of REGISTERS) {
    if (slot.id === RIP_ID) continue;
    const w = slot.off >> 2;
    if (before[w] === after[w] && (slot.bytes === 4 || before[w + 1] === after[w + 1])) continue;
    const m = /^xmm(\d+)_/.exec(slot.name);
    const covered = slot.id < 16 ? ((gprs >>> slot.id) & 1) === 1
      : slot.name === 'rflags' ? (tier & Tier.FLAGS) !== 0
        : slot.name === 'mxcsr' ? (tier & Tier.MXCSR) !== 0
          : m !== null ? ((xmm >>> Number(m[1])) & 1) === 1
            : slot.tier === 'x87' ? (tier & Tier.X87) !== 0
              : false;
    if (!covered) out.push(slot.name);
  }
  return out;
}
