// State snapshots of the step index: `snapshots/<seq, 12 digits>.bin` holds the processor state before step
// seq and, for every physical frame in use, the id of its page in `pages.bin` (page id n = bytes
// [4096n, 4096n + 4096)). Restoring one reads only that snapshot and its pages.
import { closeSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Path of the snapshot before step seq inside an index directory. */
export function snapshotPath(dir: string, seq: number): string {
  return join(dir, 'snapshots', `${String(seq).padStart(12, '0')}.bin`);
}

/** Write one snapshot: u32 state words, u32 frame count, then (frame, page id) pairs. */
export function writeSnapshot(path: string, state: Uint32Array, frames: Map<number, number>): void {
  const out = new Uint32Array(2 + state.length + 2 * frames.size);
  out[0] = state.length;
  out.set(state, 1);
  let k = 1 + state.length;
  out[k++] = frames.size;
  for (const [f, p] of frames) { out[k++] = f; out[k++] = p; }
  writeFileSync(path, new Uint8Array(out.buffer));
}

/** A snapshot read back: the state bytes and every frame's page contents. */
export interface Snapshot {
  /** Step the snapshot was taken before. */
  readonly seq: number;
  /** Processor state bytes. */
  readonly state: Uint8Array;
  /** Frame → its 4096 bytes. */
  readonly pages: Map<number, Uint8Array>;
}

/** Read the snapshot before step seq. */
export function readSnapshot(dir: string, seq: number): Snapshot {
  const b = readFileSync(snapshotPath(dir, seq));
  const w = new Uint32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  const n = w[0]!;
  const state = new Uint8Array(w.buffer, 4, n * 4).slice();
  const count = w[1 + n]!;
  const pages = new Map<number, Uint8Array>();
  const fd = openSync(join(dir, 'pages.bin'), 'r');
  try {
    // one read per run of consecutive page ids
    const pairs: [number, number][] = [];
    for (let k = 0; k < count; k++) pairs.push([w[2 + n + 2 * k]!, w[3 + n + 2 * k]!]);
    pairs.sort((a, c) => a[1] - c[1]);
    let i = 0;
    while (i < pairs.length) {
      let j = i + 1;
      while (j < pairs.length && pairs[j]![1] === pairs[j - 1]![1] + 1) j++;
      const buf = new Uint8Array((j - i) * 4096);
      readSync(fd, buf, 0, buf.length, pairs[i]![1] * 4096);
      for (let k = i; k < j; k++) pages.set(pairs[k]![0], buf.subarray((k - i) * 4096, (k - i + 1) * 4096));
      i = j;
    }
  } finally {
    closeSync(fd);
  }
  return { seq, state, pages };
}
