// Shared body of the per-family differential test files.
//   ITRACE_DIFF_SEED=n      generation seed (default 20260101; 'random' picks one and prints it)
//   ITRACE_DIFF_CASES=n     cases per family (default: the family's count)
//   ITRACE_DIFF_CASE=fam:i  run only case i of family fam (with the seed it failed with)
//   ITRACE_DIFF_VERBOSE=1   print every mismatch, not only the first per instruction
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Code } from 'iced-x86';
import { beforeAll, describe, expect, it } from 'vitest';
import { implementedCodes } from '../../src/cpu/table.js';
import { FAMILIES, Family, generate } from './families.js';
import type { VendorBehaviourId } from '../../src/cpu/vendor-model.js';
import { buildRunner, compare, describeInput, DiffCase, Emulator, hostCpuFlags, hostUnsupportedReason, runNative } from './harness.js';
import { DEFAULT_CPU_LEVEL } from '../../src/cpu/cpu-level.js';
import { entriesToJudge, hostVendor, judgeHostCode, judgeResult, judgeSummary } from './vendor-judge.js';

const DEFAULT_SEED = 20260101;

function seedFromEnv(): number {
  const s = process.env.ITRACE_DIFF_SEED;
  if (!s) return DEFAULT_SEED;
  if (s === 'random') return (Math.random() * 0x7fffffff) | 0;
  const n = Number(s);
  if (!Number.isInteger(n)) throw new Error(`ITRACE_DIFF_SEED must be an integer or 'random', got ${s}`);
  return n;
}

/** Outcome of one family run. */
export interface FamilyRun {
  family: string;
  seed: number;
  cases: number;
  passed: number;
  failed: number;
  /** Cases judged against the model's documented result instead of the host (vendor table), per entry. */
  judged: Map<VendorBehaviourId, number>;
  /** Number of distinct cases judged that way. */
  judgedCases: number;
  /** Failures grouped by the mnemonic/Code of the first instruction. */
  byInsn: Map<string, { count: number; first: string[] }>;
  report: string;
}

/** Generate, run natively and emulated, compare. */
export function runFamily(fam: Family, exe: string, seed: number, toJudge = entriesToJudge(hostVendor())): FamilyRun {
  const only = process.env.ITRACE_DIFF_CASE;
  let indices: number[];
  if (only) {
    const [f, i] = only.split(':');
    indices = f === fam.name ? [Number(i)] : [];
  } else {
    const n = process.env.ITRACE_DIFF_CASES ? Number(process.env.ITRACE_DIFF_CASES) : fam.count;
    indices = Array.from({ length: n }, (_, i) => i);
  }
  const cases: DiffCase[] = indices.map((i) => generate(fam, seed, i));
  // vendor-dependent cases: the host computes the model's documented result (vendor-judge.ts)
  const judged = new Map<VendorBehaviourId, number>();
  const count = (ids: VendorBehaviourId[]): void => { for (const id of ids) judged.set(id, (judged.get(id) ?? 0) + 1); };
  const judgedCases = new Set<number>();
  // a case the vendor table cannot judge (say, a vendor-dependent instruction whose input state is unknown) fails
  // with the reason instead of being dropped
  const unjudgeable = new Map<number, string>();
  const tryJudge = <T>(k: number, f: () => T, fallback: T): T => {
    try { return f(); } catch (e) { unjudgeable.set(k, `cannot judge against the CPU model: ${(e as Error).message}`); return fallback; }
  };
  cases.forEach((c, k) => { const a = tryJudge(k, () => judgeHostCode(c, toJudge), []); if (a.length) { count(a); judgedCases.add(k); } });
  const native = (cases.length ? runNative(exe, cases) : []).map((nat, k) => {
    const { result, applied } = tryJudge(k, () => judgeResult(cases[k]!, toJudge, nat), { result: nat, applied: [] });
    if (applied.length) { count(applied); judgedCases.add(k); }
    return result;
  });
  const emu = new Emulator();
  emu.m.cpu.setLevel(fam.level ?? DEFAULT_CPU_LEVEL);
  const byInsn = new Map<string, { count: number; first: string[] }>();
  let failed = 0;
  const verbose = !!process.env.ITRACE_DIFF_VERBOSE || !!only;
  cases.forEach((c, k) => {
    // alternate the emulator's two execution paths: whole blocks, and one instruction per run() call
    const mode = c.index % 2 === 0 ? 'block' : 'step';
    const e = emu.run(c, mode);
    const why = unjudgeable.get(k);
    const diffs = why !== undefined ? [why] : compare(c, native[k]!, e);
    if (!diffs.length) return;
    failed++;
    const key = c.asm.map((a) => a.split(/\s+/)[0]).join('+');
    const codeName = key;
    let g = byInsn.get(codeName);
    if (!g) { g = { count: 0, first: [] }; byInsn.set(codeName, g); }
    g.count++;
    if (g.first.length < (verbose ? 1000 : 2)) {
      g.first.push([
        `${fam.name}:${c.index} (emulated in ${mode} mode; reproduce: ITRACE_DIFF_SEED=${seed} ITRACE_DIFF_CASE=${fam.name}:${c.index})`,
        ...c.asm.map((a) => `  ${a}`),
        describeInput(c, fam.detail),
        ...diffs.map((d) => `  >> ${d}`),
      ].join('\n'));
    }
  });
  const lines: string[] = [];
  const judgedText = judged.size ? `; ${judgedCases.size} judged against the model's documented result (${[...judged].map(([id, n]) => `${id} x${n}`).join(', ')})` : '';
  lines.push(`differential ${fam.name}: seed ${seed}, ${cases.length} cases, ${cases.length - failed} passed, ${failed} failed${judgedText}`);
  const sorted = [...byInsn.entries()].sort((a, b) => b[1].count - a[1].count);
  if (sorted.length) lines.push(`failing instructions: ${sorted.map(([k, v]) => `${k} x${v.count}`).join(', ')}`);
  for (const [, v] of sorted) lines.push('', ...v.first);
  return { family: fam.name, seed, cases: cases.length, passed: cases.length - failed, failed, judged, judgedCases: judgedCases.size, byInsn, report: lines.join('\n') };
}

/** Which of a family's Codes have handlers (for the coverage line). */
function coverage(fam: Family): string {
  const codes = fam.codes();
  if (!codes.length) return '';
  const impl = new Set(implementedCodes().map((c) => c.code));
  const missing = codes.filter((c) => !impl.has(c));
  return `${codes.length - missing.length}/${codes.length} generated Codes implemented` +
    (missing.length ? `; missing: ${missing.slice(0, 30).map((c) => Code[c]).join(' ')}${missing.length > 30 ? ' ...' : ''}` : '');
}

/** Define the vitest suites of some families (one test per family). */
export function diffSuite(names: string[]): void {
  const fams = names.map((name) => {
    const fam = FAMILIES.find((f) => f.name === name);
    if (!fam) throw new Error(`no differential family ${name}`);
    return fam;
  });
  const why = hostUnsupportedReason();
  if (why) {
    console.warn(`SKIPPING the differential suite (${names.join(', ')}): ${why}`);
    describe.skip(`differential ${names.join(', ')} (skipped: ${why})`, () => { it('needs an x86-64 Linux host with gcc', () => {}); });
    return;
  }
  console.log(`differential: ${judgeSummary(hostVendor(), entriesToJudge(hostVendor()))}`);
  const hostFlags = hostCpuFlags();
  describe('differential vs the host CPU', () => {
    let exe = '';
    const seed = seedFromEnv();
    beforeAll(() => { exe = buildRunner(); });
    for (const fam of fams) {
      const name = fam.name;
      const only = process.env.ITRACE_DIFF_CASE?.split(':')[0];
      const lacks = (fam.needs ?? []).filter((f) => !hostFlags.has(f));
      if (lacks.length > 0) {
        console.warn(`SKIPPING differential ${name}: the host CPU lacks ${lacks.join(', ')}`);
        it.skip(`${name}: skipped, the host CPU lacks ${lacks.join(', ')}`, () => {});
        continue;
      }
      (only && only !== name ? it.skip : it)(`${name}: generated cases agree with the host CPU`, () => {
        const run = runFamily(fam, exe, seed);
        const cov = coverage(fam);
        const dir = join(tmpdir(), 'itrace-diff');
        mkdirSync(dir, { recursive: true });
        const file = join(dir, `report-${name}-seed${seed}.txt`);
        writeFileSync(file, `${run.report}\n${cov}\n`);
        console.log(`differential ${name}: seed ${seed}: ${run.cases} cases, ${run.passed} passed, ${run.failed} failed, ${run.judgedCases} judged against the CPU model's documented result${cov ? ` (${cov.split(';')[0]})` : ''}; full report ${file}`);
        if (run.failed) {
          const head = run.report.split('\n').slice(0, 120).join('\n');
          expect.fail(`${head}\n${cov}\n(full report: ${file})`);
        }
      });
    }
  });
}
