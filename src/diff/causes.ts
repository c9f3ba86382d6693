// What differed in what the two runs were given: argv and environment (meta.json), and every nondeterministic
// value (the inputs table: auxv random bytes, read() data, clock, ...) and system-call result, paired in order.
// Each difference carries the step it reached the guest at, so the diff can name the one that explains the
// divergence and say which came first.
import { cpuLevelName } from '../cpu/cpu-level.js';
import { traceCpuLevel } from '../trace/schema.js';
import { TraceReader } from '../trace/trace-reader.js';

/** One difference in the runs' inputs. */
export interface Cause {
  /** image (another program file) | cpu (another CPU model, --cpu) | argv | env | input (inputs table row; `input` says which kind) | syscall-result. */
  readonly kind: 'image' | 'cpu' | 'argv' | 'env' | 'input' | 'syscall-result';
  /** The inputs-table kind (auxv-random, read, ...) or the system call name. */
  readonly what: string;
  /** Step in A and B it reached the guest at (-1: before the first step). */
  readonly seqA: number;
  readonly seqB: number;
  /** One line, e.g. `read() on fd 0 at seq 1,204 returned different bytes`. */
  readonly description: string;
  /** The two values, printable. */
  readonly a: string;
  readonly b: string;
  /** Guest memory the value was written to in A, when known (read() buffers): [address, length]. */
  readonly rangeA?: [bigint, number];
}

/** The raw bytes a cause delivered to A (argv/env strings with their NUL, input data), for matching reads. */
export const causeBytesA = new WeakMap<Cause, Uint8Array>();

/** One system call row. */
export interface SyscallRow {
  entry: number; ret: number; number: number; name: string; args: bigint[]; result: bigint;
}

/** The syscalls table as rows. */
export function readSyscalls(r: TraceReader): SyscallRow[] {
  const t = r.readTable('syscalls').columns;
  const e = t.u64('entry_seq'), ret = t.i64('return_seq'), num = t.ints('number'), name = t.strings('name'), res = t.i64('result');
  const args = [0, 1, 2, 3, 4, 5].map((k) => t.u64(`arg${k}`));
  const out: SyscallRow[] = [];
  for (let i = 0; i < t.length; i++) {
    out.push({ entry: Number(e[i]!), ret: Number(ret[i]!), number: num[i]!, name: name[i]!, args: args.map((c) => c[i]!), result: res[i]! });
  }
  return out;
}

const n = (x: number): string => x.toLocaleString('en-US');

/** Printable bytes: up to 24 shown as text if printable, else hex. */
export function showBytes(b: Uint8Array): string {
  const head = b.subarray(0, 24);
  const text = Buffer.from(head).toString('latin1');
  const shown = /^[\x20-\x7e\n\t]*$/.test(text) ? JSON.stringify(text) : Buffer.from(head).toString('hex');
  return `${b.length} bytes ${shown}${b.length > head.length ? '…' : ''}`;
}

/** The system call a step belongs to (entry <= seq <= return). */
export function syscallAt(calls: readonly SyscallRow[], seq: number): SyscallRow | undefined {
  return calls.find((c) => c.entry <= seq && (c.ret < 0 || seq <= c.ret));
}

function callText(c: SyscallRow | undefined): string {
  if (c === undefined) return '';
  const fdCalls = new Set(['read', 'pread64', 'readv', 'write', 'fstat', 'lseek', 'getdents64']);
  return fdCalls.has(c.name) ? `${c.name}() on fd ${c.args[0]}` : `${c.name}()`;
}

/** Every difference in argv, env, inputs and system-call results, in the order they reached the guest. */
export function findCauses(a: TraceReader, b: TraceReader, callsA: readonly SyscallRow[], callsB: readonly SyscallRow[]): Cause[] {
  const out: Cause[] = [];
  const ma = a.meta, mb = b.meta;
  const listDiff = (kind: 'argv' | 'env', xa: string[], xb: string[], from: number): void => {
    for (let i = from; i < Math.max(xa.length, xb.length); i++) {
      if (xa[i] === xb[i]) continue;
      const what = kind === 'argv' ? `argv[${i}]` : `envp[${i}]`;
      const c: Cause = { kind, what, seqA: -1, seqB: -1, description: `${what} differs`, a: xa[i] === undefined ? '(none)' : JSON.stringify(xa[i]), b: xb[i] === undefined ? '(none)' : JSON.stringify(xb[i]) };
      if (xa[i] !== undefined) causeBytesA.set(c, Buffer.from(`${xa[i]}\0`, 'utf8'));
      out.push(c);
    }
  };
  if (ma.imageSha256 !== mb.imageSha256) {
    out.push({ kind: 'image', what: 'program', seqA: -1, seqB: -1, description: 'the program images differ', a: `${ma.image} (sha256 ${ma.imageSha256.slice(0, 12)})`, b: `${mb.image} (sha256 ${mb.imageSha256.slice(0, 12)})` });
  }
  // another CPU model: CPUID differs from the first step, and libraries choose other routines (glibc's ifuncs)
  const cpuA = cpuLevelName(traceCpuLevel(ma)), cpuB = cpuLevelName(traceCpuLevel(mb));
  if (cpuA !== cpuB) out.push({ kind: 'cpu', what: 'cpu model', seqA: -1, seqB: -1, description: 'the CPU models (--cpu) differ', a: cpuA, b: cpuB });
  // argv[0] is the image path: another path to the same program does not matter
  listDiff('argv', ma.argv, mb.argv, ma.imageSha256 === mb.imageSha256 ? 1 : 0);
  listDiff('env', ma.env, mb.env, 0);
  const ia = a.readTable('inputs').columns, ib = b.readTable('inputs').columns;
  const sa = ia.u64('seq'), sb = ib.u64('seq'), ka = ia.strings('kind'), kb = ib.strings('kind'), da = ia.bytes('data'), db = ib.bytes('data');
  for (let i = 0; i < Math.max(ia.length, ib.length); i++) {
    const has = [i < ia.length, i < ib.length];
    if (has[0] && has[1] && ka[i] === kb[i] && Buffer.compare(da[i]!, db[i]!) === 0) continue;
    const seqA = has[0] ? Number(sa[i]!) : Infinity, seqB = has[1] ? Number(sb[i]!) : Infinity;
    const what = (has[0] ? ka[i] : kb[i])!;
    const call = has[0] ? syscallAt(callsA, seqA) : syscallAt(callsB, seqB);
    const where = Number.isFinite(seqA) ? seqA : seqB;
    let at = '';
    if (has[0] && has[1]) {
      const x = da[i]!, y = db[i]!;
      let k = 0;
      while (k < x.length && k < y.length && x[k] === y[k]) k++;
      at = k < x.length && k < y.length ? ` (first at byte ${k})` : ` (${x.length} and ${y.length} bytes)`;
    }
    const description = what === 'auxv-random' ? 'the AT_RANDOM bytes of the auxiliary vector differ'
      : call !== undefined ? `${callText(call)} at seq ${n(where)} returned different ${what === 'read' ? 'bytes' : `${what} data`}${at}`
      : `input ${what} at seq ${n(where)} differs${at}`;
    let rangeA: [bigint, number] | undefined;
    if (call !== undefined && call.name === 'read' && has[0]) rangeA = [call.args[1]!, Math.max(0, Number(call.result))];
    const c: Cause = { kind: 'input', what, seqA, seqB, description, a: has[0] ? showBytes(da[i]!) : '(none)', b: has[1] ? showBytes(db[i]!) : '(none)', ...(rangeA ? { rangeA } : {}) };
    if (has[0]) causeBytesA.set(c, da[i]!);
    out.push(c);
  }
  for (let i = 0; i < Math.min(callsA.length, callsB.length); i++) {
    const x = callsA[i]!, y = callsB[i]!;
    if (x.number !== y.number) break; // the runs no longer make the same calls: that is a consequence
    if (x.result === y.result) continue;
    out.push({ kind: 'syscall-result', what: x.name, seqA: x.ret < 0 ? x.entry : x.ret, seqB: y.ret < 0 ? y.entry : y.ret,
      description: `${callText(x)} at seq ${n(x.entry)} returned ${x.result} in A and ${y.result} in B`, a: String(x.result), b: String(y.result) });
  }
  return out.sort((p, q) => Math.min(p.seqA, p.seqB) - Math.min(q.seqA, q.seqB));
}
