// The auxiliary vector of a recorded process, read from its initial stack at the first user-mode step (where
// Linux leaves argc, argv, envp and then the auxv pairs at RSP), as the bytes qXfer:auxv:read returns.
import { Gpr, Off } from '../cpu/state.js';
import { ReplayState } from '../replayer/replay-state.js';

/** Most pairs read (Linux passes about 20). */
const MAX_PAIRS = 128;

/** The auxv (pairs of u64 up to and including AT_NULL), or undefined if the stack does not hold one. */
export function readAuxv(state: ReplayState): Uint8Array | undefined {
  const u = state.delta.state.u32, w = (Off.GPR >> 2) + 2 * Gpr.RSP;
  const rsp = (BigInt(u[w + 1]!) << 32n) | BigInt(u[w]!);
  const word = (a: bigint): bigint | undefined => {
    const b = state.read(a, 8);
    if (b.some((x) => x === undefined)) return undefined;
    return b.reduce<bigint>((v, x, k) => v | (BigInt(x!) << BigInt(8 * k)), 0n);
  };
  const argc = word(rsp);
  if (argc === undefined || argc > 1_000_000n) return undefined;
  let a = rsp + 8n * (argc + 2n); // past argc, argv[] and its NULL
  for (let k = 0; ; k++, a += 8n) {
    const e = word(a);
    if (e === undefined || k > 100_000) return undefined;
    if (e === 0n) break;
  }
  const start = a + 8n, out: bigint[] = [];
  for (let k = 0; k < MAX_PAIRS; k++) {
    const type = word(start + 16n * BigInt(k)), value = word(start + 16n * BigInt(k) + 8n);
    if (type === undefined || value === undefined) return undefined;
    out.push(type, value);
    if (type === 0n) return new Uint8Array(BigUint64Array.from(out).buffer);
  }
  return undefined;
}
