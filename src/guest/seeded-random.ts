// A repeatable source of "random" bytes (xorshift64*), for recordings that must be identical run to run
// (`trace record --seed N`): AT_RANDOM, getrandom(2) and RDRAND then give the guest the same bytes.

/** n-byte chunks of a xorshift64* stream seeded with `seed`. */
export function seededRandom(seed: number): (n: number) => Uint8Array {
  let s = BigInt.asUintN(64, BigInt(seed) * 0x9e3779b97f4a7c15n + 1n);
  return (n: number): Uint8Array => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 8) {
      s ^= s >> 12n; s = BigInt.asUintN(64, s ^ (s << 25n)); s ^= s >> 27n;
      let v = BigInt.asUintN(64, s * 0x2545f4914f6cdd1dn);
      for (let k = 0; k < 8 && i + k < n; k++) { out[i + k] = Number(v & 0xffn); v >>= 8n; }
    }
    return out;
  };
}
