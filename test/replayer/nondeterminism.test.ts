// No nondeterminism escapes the trace: programs that read the time-stamp counter (RDTSC in a hot loop, RDTSCP
// between system calls) and random numbers (RDRAND of every size) record, and `trace replay --verify` re-executes
// them with the logged inputs; FXRSTOR and LDMXCSR log their MXCSR, XMM and x87 changes at their own step. The
// programs are compiled at test time (musl-gcc, else gcc -static); their native runs are the oracle for counts
// and for the values FXRSTOR and LDMXCSR load.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Decoder, DecoderOptions, Mnemonic } from 'iced-x86';
import { describe, expect, it } from 'vitest';
import { verifyTrace } from '../../src/replayer/verify.js';
import { REGISTERS } from '../../src/trace/registers.js';
import type { TraceReader } from '../../src/trace/trace-reader.js';
import { compileC, haveTool } from '../native/native-tools.js';
import { recordTo } from '../helpers/trace-checks.js';

const SRC = resolve('test/native');

/** Build a static program from test/native/<name>.c, with musl-gcc when present (smaller traces), else gcc. */
function build(name: string): { ok: true; path: string } | { ok: false; reason: string } {
  const flags = ['-O2', '-static'], src = join(SRC, `${name}.c`);
  if (haveTool('musl-gcc')) {
    const out = join(mkdtempSync(join(tmpdir(), 'itrace-native-')), name);
    const r = spawnSync('musl-gcc', [...flags, '-o', out, src], { stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status === 0) return { ok: true, path: out };
  }
  const built = compileC(src, name, flags);
  if (!built.ok) console.warn(`skipping: ${built.reason}`);
  return built;
}

function native(path: string, args: string[]): string {
  const r = spawnSync(path, args, { encoding: 'latin1' });
  expect(r.status).toBe(0);
  return r.stdout;
}

/** The input rows of a trace: kind, step and little-endian value. */
function inputs(reader: TraceReader): { kind: string; seq: number; value: bigint; size: number }[] {
  const t = reader.readTable('inputs').columns, seq = t.words('seq'), kinds = t.strings('kind'), data = t.bytes('data');
  return Array.from({ length: t.length }, (_, i) => {
    let v = 0n;
    for (let k = data[i]!.length - 1; k >= 0; k--) v = (v << 8n) | BigInt(data[i]![k]!);
    return { kind: kinds[i]!, seq: seq[2 * i]! + seq[2 * i + 1]! * 4294967296, value: v, size: data[i]!.length };
  });
}

/** The steps whose instruction has mnemonic `m`. */
function stepsOf(reader: TraceReader, m: Mnemonic): number[] {
  const code = reader.readTable('code').columns, ids = code.ints('id'), bytes = code.bytes('bytes');
  const wanted = new Set<number>();
  for (let i = 0; i < code.length; i++) {
    const dec = new Decoder(64, bytes[i]!, DecoderOptions.None);
    if (dec.decode().mnemonic === m) wanted.add(ids[i]!);
    dec.free();
  }
  const insns = reader.readTable('insns').columns, col = insns.ints('code'), out: number[] = [];
  for (let i = 0; i < insns.length; i++) if (wanted.has(col[i]!)) out.push(i);
  return out;
}

/** The regs rows of one step, by register name. */
function regsAt(reader: TraceReader, step: number): Map<string, bigint> {
  const t = reader.readTable('regs').columns, seq = t.words('seq'), reg = t.ints('reg'), val = t.u64('value');
  const out = new Map<string, bigint>();
  for (let i = 0; i < t.length; i++) if (seq[2 * i] === step && seq[2 * i + 1] === 0) out.set(REGISTERS[reg[i]!]!.name, val[i]!);
  return out;
}

const verify = (reader: TraceReader): ReturnType<typeof verifyTrace> => verifyTrace(reader);

describe('host values are inputs of the trace', () => {
  const prog = build('host-values');
  it.skipIf(!prog.ok)('RDTSC in a loop, RDTSCP between system calls and RDRAND replay with --verify', () => {
    if (!prog.ok) return;
    const args = ['3000', '25', '40'];
    const want = native(prog.path, args).split('\n');
    const rec = recordTo(prog.path, args);
    const got = rec.stdout.split('\n');
    expect(rec.summary.exitStatus).toBe(0);
    // counts and monotonicity as the native run reports them; RDRAND values differ by nature
    expect(got[0]).toBe(want[0]);
    expect(got[1]).toBe(want[1]);
    const rows = inputs(rec.reader);
    const of = (k: string): typeof rows => rows.filter((r) => r.kind === k);
    expect(of('rdtsc').length).toBe(3001);
    expect(of('rdtscp').length).toBe(25);
    expect(of('rdrand').map((r) => r.size)).toEqual(Array.from({ length: 120 }, (_, i) => [8, 4, 2][i % 3]));
    // the values the program printed are the last logged ones
    const last = of('rdrand').slice(-3).map((r, i) => r.value.toString(16).padStart([16, 8, 4][i]!, '0'));
    expect(got[2]).toBe(`last ${last.join(' ')}`);
    // each input row sits at the step of an instruction that reads it
    const rdtscSteps = new Set(stepsOf(rec.reader, Mnemonic.Rdtsc)), rdrandSteps = new Set(stepsOf(rec.reader, Mnemonic.Rdrand));
    for (const r of of('rdtsc')) expect(rdtscSteps.has(r.seq)).toBe(true);
    for (const r of of('rdrand')) expect(rdrandSteps.has(r.seq)).toBe(true);
    expect(verify(rec.reader)).toMatchObject({ ok: true, steps: rec.summary.steps });
  }, 300_000);

  it.skipIf(!prog.ok)('a replay fed another RDTSCP value diverges at that step, in the register it loads', () => {
    if (!prog.ok) return;
    const rec = recordTo(prog.path, ['200', '3', '2']);
    expect(verify(rec.reader)).toMatchObject({ ok: true });
    const table = rec.reader.readTable('inputs'), kinds = table.columns.strings('kind');
    const data = table.columns.bytes('data') as Uint8Array[];
    const k = kinds.indexOf('rdtscp');
    const seq = inputs(rec.reader)[k]!.seq;
    const changed = data[k]!.slice();
    changed[0] = changed[0]! ^ 1;
    data[k] = changed;
    // the same trace, but its reader answers the changed inputs table
    const tampered = Object.create(rec.reader) as TraceReader;
    tampered.readTable = (name) => (name === 'inputs' ? table : rec.reader.readTable(name));
    expect(verify(tampered)).toMatchObject({ ok: false, seq, what: 'register rax' });
  }, 300_000);
});

describe('FXRSTOR and LDMXCSR log their writes at their own step', () => {
  const prog = build('fx-state');
  it.skipIf(!prog.ok)('regs rows of MXCSR, the XMM registers and FCW are at the FXRSTOR step, MXCSR at the LDMXCSR step', () => {
    if (!prog.ok) return;
    const want = native(prog.path, []);
    const rec = recordTo(prog.path, []);
    expect(rec.stdout).toBe(want);
    const lines = want.trim().split('\n');
    const fx = /^fxrstor mxcsr ([0-9a-f]+) fcw ([0-9a-f]+)$/.exec(lines[0]!)!;
    const fxr = stepsOf(rec.reader, Mnemonic.Fxrstor64);
    expect(fxr.length).toBe(1);
    const at = regsAt(rec.reader, fxr[0]!);
    expect(at.get('mxcsr')).toBe(BigInt('0x' + fx[1]!));
    expect(at.get('fcw')).toBe(BigInt('0x' + fx[2]!));
    for (let n = 0; n < 16; n++) {
      const [, lo, hi] = /^xmm\d+ ([0-9a-f]+) ([0-9a-f]+)$/.exec(lines[1 + n]!)!;
      expect(at.get(`xmm${n}_lo`), `xmm${n}_lo`).toBe(BigInt('0x' + lo!));
      expect(at.get(`xmm${n}_hi`), `xmm${n}_hi`).toBe(BigInt('0x' + hi!));
    }
    const ld = stepsOf(rec.reader, Mnemonic.Ldmxcsr);
    const mx = /^ldmxcsr mxcsr ([0-9a-f]+)$/.exec(lines[17]!)!;
    const ldAt = ld.map((s) => regsAt(rec.reader, s).get('mxcsr'));
    expect(ldAt).toContain(BigInt('0x' + mx[1]!));
    expect(verify(rec.reader)).toMatchObject({ ok: true, steps: rec.summary.steps });
  }, 300_000);
});
