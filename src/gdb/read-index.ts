// Memory reads sorted by address, then seq, for read and access watchpoints (`rwatch`, `awatch`): the same layout
// as the step index's write index, built from the trace's `mem` table on the first read watchpoint of a session
// (one pass over the table, then every lookup is a binary search) and kept in memory.
import { Growable } from '../replayer/growable.js';
import { WriteIndex } from '../replayer/step-index.js';
import { TraceReader } from '../trace/trace-reader.js';

/** Build the read index of a trace; an error if the mem table cannot be read to its end. */
export function buildReadIndex(reader: TraceReader): WriteIndex | { error: string } {
  const lo = new Growable((n) => new Uint32Array(n), 1 << 16), hi = new Growable((n) => new Uint32Array(n), 1 << 16);
  const size = new Growable((n) => new Uint8Array(n), 1 << 16), seq = new Growable((n) => new Uint32Array(n), 1 << 16);
  const s = reader.stream('mem');
  for (const b of s) {
    const acc = b.ints('access'), a = b.words('addr'), sz = b.ints('size'), q = b.words('seq');
    for (let i = 0; i < b.length; i++) {
      if (acc[i] !== 0) continue;
      lo.push(a[2 * i]!); hi.push(a[2 * i + 1]!); size.push(sz[i]!); seq.push(q[2 * i]!);
    }
  }
  if (s.error !== undefined) return { error: s.error };
  const n = lo.length, l = lo.view(), h = hi.view(), z = size.view(), sq = seq.view();
  const key = new Float64Array(n);
  for (let k = 0; k < n; k++) key[k] = (h[k]! & 0x1ffff) * 4294967296 + l[k]!;
  const order = new Uint32Array(n);
  for (let k = 0; k < n; k++) order[k] = k;
  // rows are in seq order, so ties on the key keep ascending seq by index
  order.sort((x, y) => key[x]! - key[y]! || x - y);
  const out = { key: new Float64Array(n), size: new Uint8Array(n), seq: new Uint32Array(n) };
  for (let k = 0; k < n; k++) { const o = order[k]!; out.key[k] = key[o]!; out.size[k] = z[o]!; out.seq[k] = sq[o]!; }
  return out;
}
