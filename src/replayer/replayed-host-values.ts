// A replay's host values: RDTSC, RDTSCP and RDRAND get the values their recording logged as input rows (kinds
// rdtsc, rdtscp, rdrand), in order, each at the step that logged it. A request that does not match the next
// logged value (another step, another kind, another size, or none left) is a divergence, reported through `fail`.
import type { Cpu } from '../cpu/cpu.js';
import { HOST_INPUT_KINDS, HostValue, HostValues } from '../cpu/host-values.js';
import type { TableColumns } from '../trace/table-columns.js';

/** The logged host values of a trace, and how far a replay has consumed them. */
export interface HostValueRows {
  /** The host values as a replay's processor source. */
  readonly host: HostValues;
  /** The step of the next value not consumed yet (Infinity when none is left). */
  nextSeq(): number;
  /** The kind of the next value not consumed yet. */
  nextKind(): string;
}

/**
 * Replay source over the `inputs` rows of a trace: `seq()` is the step being executed, `fail` reports a
 * divergence (it throws, so the instruction does not complete).
 */
export function replayedHostValues(inputs: TableColumns, seq: () => number, fail: (what: string, recorded: string, replayed: string) => never): HostValueRows {
  const rowSeq = inputs.words('seq'), kinds = inputs.strings('kind'), data = inputs.bytes('data');
  const rows: number[] = [];
  for (let i = 0; i < inputs.length; i++) if (HOST_INPUT_KINDS.includes(kinds[i]!)) rows.push(i);
  let next = 0;
  const seqOf = (k: number): number => { const i = rows[k]; return i === undefined ? Infinity : rowSeq[2 * i]! + rowSeq[2 * i + 1]! * 4294967296; };
  const host: HostValues = {
    value(c: Cpu, what: HostValue, size: number): number {
      const kind = HOST_INPUT_KINDS[what]!, s = seq();
      const i = rows[next];
      if (i === undefined) fail(`input ${kind}`, 'none left', `a request at step ${s}`);
      if (seqOf(next) !== s || kinds[i] !== kind || data[i]!.length !== size) {
        fail(`input ${kind}`, `${kinds[i]} (${data[i]!.length} bytes) at step ${seqOf(next)}`, `${kind} (${size} bytes) at step ${s}`);
      }
      next++;
      const b = data[i]!, dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      c.hi = size === 8 ? dv.getUint32(4, true) : 0;
      return size === 2 ? dv.getUint16(0, true) : dv.getUint32(0, true);
    },
  };
  return { host, nextSeq: () => seqOf(next), nextKind: () => kinds[rows[next] ?? -1] ?? '' };
}
