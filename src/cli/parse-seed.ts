// `--seed N`: an exact 64-bit integer (decimal, or 0x hex), parsed with BigInt so that seeds above 2^53 stay
// distinct; negative seeds down to -2^63 are their two's-complement 64-bit values. Anything else is refused.

const MIN = -(1n << 63n);
const MAX = (1n << 64n) - 1n;

/** The seed as an unsigned 64-bit value, or a one-line error. */
export function parseSeed(text: string): bigint | { error: string } {
  const t = text.trim();
  if (!/^-?(\d+|0[xX][0-9a-fA-F]+)$/.test(t)) return { error: `--seed ${text}: not an integer (decimal or 0x hex)` };
  const v = t.startsWith('-') ? -BigInt(t.slice(1)) : BigInt(t);
  if (v < MIN || v > MAX) return { error: `--seed ${text}: out of range (a 64-bit integer: -2^63 to 2^64-1)` };
  return BigInt.asUintN(64, v);
}
