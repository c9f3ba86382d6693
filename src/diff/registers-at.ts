// The register file of a trace before a step: the recorder's nearest checkpoint at or before it plus the logged
// register changes of the steps in between (RIP from the step itself). Registers only, so showing both sides of
// a divergence never builds the replayer's full navigation index.
import { REGISTERS, RIP_ID } from '../trace/registers.js';
import { TraceReader } from '../trace/trace-reader.js';
import { TableRows } from './table-rows.js';

/** Register values (bigint) keyed by register name. */
export type RegisterFile = Map<string, bigint>;

/** Registers before step `seq` (seq may equal the step count: the state after the last step). */
export function registersAt(reader: TraceReader, regs: TableRows, insns: TableRows, seq: number): RegisterFile | { error: string } {
  const cps = reader.listCheckpoints().filter((c) => c <= seq);
  if (cps.length === 0) return { error: `${reader.dir}: no checkpoint at or before step ${seq}` };
  const cp = reader.readCheckpoint(cps[cps.length - 1]!);
  if ('error' in cp) return cp;
  const st = new Uint8Array(cp.state);
  const dv = new DataView(st.buffer, st.byteOffset, st.byteLength);
  for (let r = regs.lowerBound(cp.seq); r < regs.rows;) {
    const at = regs.at(r);
    const s = at.cols.words('seq'), id = at.cols.ints('reg'), v = at.cols.words('value');
    let i = at.i;
    for (; i < at.cols.length; i++) {
      if (s[2 * i]! + s[2 * i + 1]! * 4294967296 >= seq) return finish(dv, insns, seq);
      const slot = REGISTERS[id[i]!];
      if (slot === undefined) continue;
      dv.setUint32(slot.off, v[2 * i]!, true);
      if (slot.bytes === 8) dv.setUint32(slot.off + 4, v[2 * i + 1]!, true);
    }
    r = at.first + at.cols.length;
  }
  return finish(dv, insns, seq);
}

function finish(dv: DataView, insns: TableRows, seq: number): RegisterFile {
  const out: RegisterFile = new Map();
  for (const s of REGISTERS) {
    if (s.id === RIP_ID) continue;
    const lo = BigInt(dv.getUint32(s.off, true));
    out.set(s.name, s.bytes === 8 ? lo | (BigInt(dv.getUint32(s.off + 4, true)) << 32n) : lo);
  }
  if (seq < insns.rows) {
    const a = insns.at(seq), w = a.cols.words('rip');
    out.set('rip', BigInt(w[2 * a.i]!) | (BigInt(w[2 * a.i + 1]!) << 32n));
  }
  return out;
}
