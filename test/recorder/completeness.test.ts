// Completeness of a recording: from checkpoint 0 plus the regs and mem rows alone (no re-execution), the
// registers and every byte of memory the run wrote are rebuilt at 1,000 random positions and compared with
// snapshots of the live machine taken at those positions while recording.
import { mkdtempSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Cpu } from '../../src/cpu/cpu.js';
import { getFlags } from '../../src/cpu/flags.js';
import { Off } from '../../src/cpu/state.js';
import { readImage } from '../../src/guest/run-program.js';
import { record } from '../../src/recorder/record.js';
import { DeltaState } from '../../src/replayer/delta-state.js';
import { REGISTERS } from '../../src/trace/registers.js';
import { TraceReader } from '../../src/trace/trace-reader.js';
import { ROOT } from '../helpers/run-both.js';
import { plainRunFrames } from '../helpers/trace-checks.js';

const IMAGE = resolve('guests/bin/compute-musl');
const ARGS = ['40'];
const POSITIONS = 1000;

/** Deterministic "random" bytes so the pre-run and the recording are the same run. */
function fixedRandom(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 0xff);
}

function hashFrame(bytes: Uint8Array, frame: number): number {
  const w = new Uint32Array(bytes.buffer, bytes.byteOffset + frame * 4096, 1024);
  let h = 0x811c9dc5;
  for (let i = 0; i < 1024; i++) h = Math.imul(h ^ w[i]!, 16777619);
  return h >>> 0;
}

interface Snapshot { state: Uint32Array; hashes: Uint32Array }

describe('trace completeness: checkpoint 0 + regs + mem rows rebuild the live state', () => {
  it(`${POSITIONS} random positions of a compute-musl recording`, () => {
    const spec = { image: IMAGE, args: ARGS, root: ROOT, random: fixedRandom };
    const image = readImage(spec);
    if ('error' in image) throw new Error(image.error);
    const dir = mkdtempSync(join(tmpdir(), 'itrace-complete-'));
    const sink = openSync('/dev/null', 'w');
    // pre-run without recording: the step count and every frame the run ever used (deterministic inputs)
    const { steps, frames, memorySize } = plainRunFrames(spec, image);

    let seed = 12345;
    const rand = (): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed; };
    const positions = new Set<number>();
    while (positions.size < POSITIONS) positions.add(rand() % steps);
    const snaps = new Map<number, Snapshot>();
    const onSnapshot = (seq: number, cpu: Cpu): void => {
      getFlags(cpu.r);
      snaps.set(seq, { state: cpu.r.slice(), hashes: Uint32Array.from(frames, (f) => hashFrame(cpu.mem.bytes, f)) });
    };
    const prev = process.cwd();
    process.chdir(ROOT);
    let summary;
    try {
      summary = record({ ...spec, stdout: sink, stderr: sink, out: join(dir, 't'), snapshotAt: positions, onSnapshot, jitThreshold: 16 });
    } finally {
      process.chdir(prev);
      closeSync(sink);
    }
    if ('error' in summary) throw new Error(summary.error);
    // the trace also holds the final VMCALL (exit_group), which a plain run never completes
    expect(summary.steps).toBe(steps + 1);
    expect(snaps.size).toBe(POSITIONS);

    const reader = TraceReader.open(join(dir, 't'));
    if ('error' in reader) throw new Error(reader.error);
    const cp = reader.readCheckpoint(0);
    if ('error' in cp) throw new Error(cp.error);
    const rebuilt = new DeltaState(memorySize, cp.state, cp.pages, 0);
    const insns = reader.readTable('insns').columns, regs = reader.readTable('regs').columns, mem = reader.readTable('mem').columns;
    const ripW = insns.words('rip');
    const rSeq = regs.words('seq'), rReg = regs.ints('reg'), rVal = regs.words('value');
    const mSeq = mem.words('seq'), mAddr = mem.words('addr'), mSize = mem.ints('size'), mAcc = mem.ints('access'), mVal = mem.words('value');
    let ri = 0, mi = 0, compared = 0, bytesCompared = 0;
    for (const p of [...positions].sort((a, b) => a - b)) {
      // apply every delta of steps < p, in trace order (a step's memory writes before its register changes)
      while (true) {
        const nextReg = ri < regs.length ? rSeq[2 * ri]! : Infinity, nextMem = mi < mem.length ? mSeq[2 * mi]! : Infinity;
        if (nextMem < p && nextMem <= nextReg) {
          if (mAcc[mi] === 1) {
            const ok = rebuilt.applyWrite({ seq: nextMem, addrLo: mAddr[2 * mi]!, addrHi: mAddr[2 * mi + 1]!, size: mSize[mi]!, lo: mVal[2 * mi]!, hi: mVal[2 * mi + 1]! });
            if (!ok) throw new Error(`mem row ${mi} (step ${nextMem}) has no translation`);
          }
          mi++;
        } else if (nextReg < p) {
          rebuilt.applyReg({ seq: nextReg, reg: rReg[ri]!, lo: rVal[2 * ri]!, hi: rVal[2 * ri + 1]! });
          ri++;
        } else break;
      }
      const live = snaps.get(p)!;
      const u = rebuilt.state.u32;
      u[Off.RIP >> 2] = ripW[2 * p]!; u[(Off.RIP >> 2) + 1] = ripW[2 * p + 1]!; // RIP is the step's own address
      for (const reg of REGISTERS) {
        const w = reg.off >> 2;
        if (u[w] !== live.state[w] || (reg.bytes === 8 && u[w + 1] !== live.state[w + 1])) {
          throw new Error(`position ${p}: ${reg.name} rebuilt ${u[w + 1]!.toString(16)}:${u[w]!.toString(16)}, live ${live.state[w + 1]!.toString(16)}:${live.state[w]!.toString(16)}`);
        }
      }
      frames.forEach((f, k) => {
        if (hashFrame(rebuilt.mem.bytes, f) !== live.hashes[k]) throw new Error(`position ${p}: physical frame ${f.toString(16)} differs`);
      });
      compared++;
      bytesCompared += frames.length * 4096;
    }
    expect(compared).toBe(POSITIONS);
    console.log(`completeness: ${steps} steps, ${POSITIONS} positions, ${REGISTERS.length} registers and ${frames.length} frames (${bytesCompared / POSITIONS} bytes) each`);
  });
});
