// Processor throughput on real compiled code: musl's qsort (smoothsort with a comparison callback) and the
// compute sample's recursive merge sort, called from the static binary's text in a bare machine, no tracing.
import { readFileSync } from 'node:fs';
import { callBare, loadBare } from './bare-call.js';

/** Result of one throughput measurement. */
export interface CpuBenchResult {
  /** Workload name. */
  name: string;
  /** Instructions executed. */
  instructions: number;
  /** Wall time in seconds. */
  seconds: number;
  /** Millions of instructions per second. */
  mips: number;
}

function fill(view: DataView, at: number, n: number, seed: bigint): void {
  let s = seed;
  for (let i = 0; i < n; i++) {
    s ^= s >> 12n; s ^= (s << 25n) & 0xffffffffffffffffn; s ^= s >> 27n;
    view.setBigUint64(at + i * 8, (s * 0x2545f4914f6cdd1dn) & 0xffffffffffffffffn, true);
  }
}

function checkSorted(view: DataView, at: number, n: number): void {
  for (let i = 1; i < n; i++) {
    if (view.getBigUint64(at + (i - 1) * 8, true) > view.getBigUint64(at + i * 8, true)) throw new Error(`not sorted at ${i}`);
  }
}

/** Run the sort workloads on `n` elements, `rounds` times each; the best round is reported. */
export function benchCpu(image: string, n = 100_000, rounds = 3): CpuBenchResult[] {
  const img = loadBare(new Uint8Array(readFileSync(image)));
  const dv = img.m.mem.dv;
  const A = 0x1000000, TMP = A + n * 8 + 4096;
  const results: CpuBenchResult[] = [];
  const work: [string, () => number][] = [
    ['merge_sort (compute sample)', () => callBare(img, 'merge_sort', [BigInt(A), BigInt(TMP), BigInt(n)]).steps],
    ['qsort + cmp_u64 (musl smoothsort)', () => callBare(img, 'qsort', [BigInt(A), BigInt(n), 8n, img.symbols.get('cmp_u64')!]).steps],
  ];
  for (const [name, fn] of work) {
    let best: CpuBenchResult | undefined;
    for (let r = 0; r < rounds; r++) {
      fill(dv, A, n, 0x9e3779b97f4a7c15n + BigInt(r));
      img.m.cpu.notifyPhysWrite(A, n * 8);
      const t0 = process.hrtime.bigint();
      const instructions = fn();
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      checkSorted(dv, A, n);
      const res = { name, instructions, seconds, mips: instructions / seconds / 1e6 };
      if (!best || res.mips > best.mips) best = res;
    }
    results.push(best!);
  }
  return results;
}
