// The registers gdb sees, in its amd64 numbering (the order of the target description and of the `g` packet):
// each one named after the `regs` column it comes from (src/trace/registers.ts) or computed from such columns
// (the x87 stack registers from the physical registers and TOP). The target description is built from this
// table (target-description.ts), and so are the `g` and `p` replies.
import { CpuState } from '../cpu/state.js';
import { REGISTERS, RegisterSlot } from '../trace/registers.js';

/** Feature names of gdb's x86-64 target descriptions. */
export type GdbFeature = 'org.gnu.gdb.i386.core' | 'org.gnu.gdb.i386.sse' | 'org.gnu.gdb.i386.linux' | 'org.gnu.gdb.i386.segments';

/** One register as gdb sees it. */
export interface GdbRegister {
  /** gdb's name. */
  readonly name: string;
  /** Width in bits. */
  readonly bits: number;
  /** gdb type name (predefined, or defined in the description: i386_eflags, i386_mxcsr, vec128). */
  readonly type: string;
  /** Which feature of the description holds it. */
  readonly feature: GdbFeature;
  /** gdb register group, when not the default. */
  readonly group?: string;
  /** Its value in the state, little-endian, bits/8 bytes. */
  readonly read: (s: CpuState) => Uint8Array;
}

function slot(name: string): RegisterSlot {
  const r = REGISTERS.find((x) => x.name === name);
  if (r === undefined) throw new Error(`no register ${name} in the trace register table`);
  return r;
}

/** The value of a trace register, zero-extended to `bytes`. */
function fromSlot(name: string, bytes: number): (s: CpuState) => Uint8Array {
  const r = slot(name);
  return (s) => {
    const out = new Uint8Array(bytes);
    out.set(s.u8.subarray(r.off, r.off + Math.min(r.bytes, bytes)));
    return out;
  };
}

/** A 16-bit x87 field of the state (FSW with TOP in bits 11-13 for fstat). */
function u32Value(bytes: number, value: (s: CpuState) => number): (s: CpuState) => Uint8Array {
  return (s) => {
    const out = new Uint8Array(bytes);
    new DataView(out.buffer).setUint32(0, value(s) >>> 0, true);
    return out;
  };
}

function build(): GdbRegister[] {
  const out: GdbRegister[] = [];
  const core = 'org.gnu.gdb.i386.core' as const;
  const gpr = (name: string, type = 'int64'): void => { out.push({ name, bits: 64, type, feature: core, read: fromSlot(name, 8) }); };
  for (const n of ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi']) gpr(n);
  gpr('rbp', 'data_ptr'); gpr('rsp', 'data_ptr');
  for (let i = 8; i < 16; i++) gpr(`r${i}`);
  out.push({ name: 'rip', bits: 64, type: 'code_ptr', feature: core, read: fromSlot('rip', 8) });
  out.push({ name: 'eflags', bits: 32, type: 'i386_eflags', feature: core, read: fromSlot('rflags', 4) });
  for (const n of ['cs', 'ss', 'ds', 'es', 'fs', 'gs']) out.push({ name: n, bits: 32, type: 'int32', feature: core, read: fromSlot(n, 4) });
  // ST(i) is physical register (TOP + i) mod 8: 64-bit mantissa, then sign and exponent
  const top = slot('ftop');
  const mant = Array.from({ length: 8 }, (_, k) => slot(`fpr${k}_mant`)), se = Array.from({ length: 8 }, (_, k) => slot(`fpr${k}_se`));
  for (let i = 0; i < 8; i++) {
    out.push({
      name: `st${i}`, bits: 80, type: 'i387_ext', feature: core,
      read: (s) => {
        const phys = (s.u32[top.off >> 2]! + i) & 7, m = mant[phys]!, e = se[phys]!;
        const v = new Uint8Array(10);
        v.set(s.u8.subarray(m.off, m.off + 8));
        v.set(s.u8.subarray(e.off, e.off + 2), 8);
        return v;
      },
    });
  }
  const fsw = slot('fsw');
  const x87: [string, (s: CpuState) => Uint8Array][] = [
    ['fctrl', fromSlot('fcw', 4)],
    ['fstat', u32Value(4, (s) => (s.u32[fsw.off >> 2]! & 0xc7ff) | ((s.u32[top.off >> 2]! & 7) << 11))],
    ['ftag', fromSlot('ftag', 4)],
    ['fiseg', u32Value(4, () => 0)],
    ['fioff', fromSlot('fip', 4)],
    ['foseg', u32Value(4, () => 0)],
    ['fooff', fromSlot('fdp', 4)],
    ['fop', fromSlot('fop', 4)],
  ];
  for (const [name, read] of x87) out.push({ name, bits: 32, type: 'int', feature: core, group: 'float', read });
  const sse = 'org.gnu.gdb.i386.sse' as const;
  for (let i = 0; i < 16; i++) {
    const lo = fromSlot(`xmm${i}_lo`, 8), hi = fromSlot(`xmm${i}_hi`, 8);
    out.push({ name: `xmm${i}`, bits: 128, type: 'vec128', feature: sse, read: (s) => { const v = new Uint8Array(16); v.set(lo(s)); v.set(hi(s), 8); return v; } });
  }
  out.push({ name: 'mxcsr', bits: 32, type: 'i386_mxcsr', feature: sse, group: 'vector', read: fromSlot('mxcsr', 4) });
  // not a system-call stop: Linux reports -1
  out.push({ name: 'orig_rax', bits: 64, type: 'int', feature: 'org.gnu.gdb.i386.linux', read: () => new Uint8Array(8).fill(0xff) });
  for (const n of ['fs_base', 'gs_base']) out.push({ name: n, bits: 64, type: 'int', feature: 'org.gnu.gdb.i386.segments', read: fromSlot(n, 8) });
  return out;
}

/** gdb's registers, indexed by its register number. */
export const GDB_REGISTERS: readonly GdbRegister[] = build();

/** Every register's value, concatenated (the `g` reply's bytes). */
export function readAllRegisters(s: CpuState): Uint8Array {
  const parts = GDB_REGISTERS.map((r) => r.read(s));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let k = 0;
  for (const p of parts) { out.set(p, k); k += p.length; }
  return out;
}
