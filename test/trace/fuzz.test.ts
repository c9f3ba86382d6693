// Damaged traces never give a wrong answer. One small recording (compute-musl 1: about 12,000 steps, sync points
// every 2,048 steps, checkpoints every 5,000) is damaged in a few hundred seeded ways — every file truncated at
// several offsets, bytes flipped, the file deleted — and each variant is asked what `trace info`, `trace step --at P
// --regs`, `trace query "select count(*) from insns"` and `trace replay --verify` compute, through the same library
// calls the commands make (admission first). Each answer must equal the undamaged trace's or be a clean refusal
// (an error value); nothing may throw. With --allow-partial, whatever is served must be the undamaged trace's
// answers for its prefix. A handful of variants also run through the real CLI: exit status 0/1/2 and one-line
// stderr, no stack trace. The counts are printed.
import { spawnSync } from 'node:child_process';
import { closeSync, cpSync, existsSync, openSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admitTrace } from '../../src/cli/trace-access.js';
import { QuerySession } from '../../src/query/query-session.js';
import { record } from '../../src/recorder/record.js';
import { StepSession } from '../../src/replayer/step-session.js';
import { verifyTrace } from '../../src/replayer/verify.js';
import { traceInfo } from '../../src/trace/trace-info.js';
import { TraceReader } from '../../src/trace/trace-reader.js';
import { fixedRandom } from '../replayer/recordings.js';
import { ROOT } from '../helpers/run-both.js';
import { rng, tempDir } from './helpers.js';

const tmp = tempDir('itrace-fuzz-');
afterAll(tmp.cleanup);
const base = join(tmp.dir, 'base');
const RUN = resolve('bin/run.js');

/** The answers of one trace (or why it was refused). */
interface Answers {
  info: string;
  step: string;
  count: string;
  verify: string;
}

const POSITION = 10_000;

/** Run fn; a thrown exception is recorded as a crash (a stack trace in the CLI). */
function guard(fn: () => string): string {
  try {
    return fn();
  } catch (e) {
    return `CRASH ${(e as Error).stack ?? String(e)}`;
  }
}

async function guardAsync(fn: () => Promise<string>): Promise<string> {
  try {
    return await fn();
  } catch (e) {
    return `CRASH ${(e as Error).stack ?? String(e)}`;
  }
}

/** The facts of trace info that do not depend on the damage report itself. */
function infoFacts(dir: string): string {
  const i = traceInfo(dir);
  if ('error' in i) return `REFUSED ${i.error}`;
  if (i.usable.problems.length > 0 || i.usable.state !== 'complete') return `DAMAGE-REPORTED ${i.usable.state} ${i.usable.problems[0] ?? ''}`;
  return JSON.stringify({ steps: i.steps, user: i.userSteps, events: i.eventsByKind, syscalls: i.syscalls, tables: i.tables.map((t) => [t.name, t.rows, t.status]) });
}

async function answers(dir: string, allowPartial: boolean): Promise<Answers> {
  const admitted = (): string | null => {
    const a = admitTrace(dir, allowPartial);
    return 'error' in a ? `REFUSED ${a.error}` : null;
  };
  const info = guard(() => infoFacts(dir));
  const step = guard(() => {
    const refused = admitted();
    if (refused !== null) return refused;
    const s = StepSession.open(dir, { at: POSITION });
    if ('error' in s) return `REFUSED ${s.error}`;
    try {
      if (s.position !== POSITION) return `REFUSED position ${POSITION} not served (prefix of ${s.index.steps} steps)`;
      return s.registerBlock().join('\n');
    } finally {
      s.closeSync();
    }
  });
  const count = await guardAsync(async () => {
    const refused = admitted();
    if (refused !== null) return refused;
    const q = await QuerySession.open([{ alias: 't', dir }]);
    if ('error' in q) return `REFUSED ${q.error}`;
    try {
      const r = await q.run('select count(*) from insns');
      return 'error' in r ? `REFUSED ${r.error}` : JSON.stringify(r.rows, (_, v) => (typeof v === 'bigint' ? v.toString() : v));
    } finally {
      q.closeSync();
    }
  });
  const verify = guard(() => {
    const refused = admitted();
    if (refused !== null) return refused;
    const rd = TraceReader.open(dir);
    if ('error' in rd) return `REFUSED ${rd.error}`;
    const v = verifyTrace(rd);
    if ('error' in v) return `REFUSED ${v.error}`;
    return v.ok ? `verified ${v.steps}` : `DIVERGED at ${v.seq}: ${v.what}`;
  });
  return { info, step, count, verify };
}

/** A damaged copy of the base trace. */
interface Variant { name: string; apply: (dir: string) => void }

function variants(): Variant[] {
  const r = rng(20261203);
  const files: string[] = [];
  for (const f of readdirSync(base)) {
    if (f === 'checkpoints') for (const c of readdirSync(join(base, f))) files.push(join(f, c));
    else files.push(f);
  }
  const out: Variant[] = [];
  for (const f of files.sort()) {
    const size = statSync(join(base, f)).size;
    out.push({ name: `delete ${f}`, apply: (d) => rmSync(join(d, f)) });
    const cuts = new Set([0, 1, Math.floor(size / 2), size - 1, Math.floor(r() * size), Math.floor(r() * size)]);
    for (const at of cuts) if (at < size) out.push({ name: `truncate ${f} at ${at}`, apply: (d) => truncateSync(join(d, f), at) });
    const flips = f.endsWith('.arrows') || f.startsWith('checkpoints') ? 14 : 10;
    for (let k = 0; k < flips; k++) {
      const at = Math.floor(r() * size), bit = 1 << Math.floor(r() * 8);
      out.push({
        name: `flip bit ${bit} of byte ${at} of ${f}`,
        apply: (d) => { const b = readFileSync(join(d, f)); b[at] = b[at]! ^ bit; writeFileSync(join(d, f), b); },
      });
    }
  }
  return out;
}

let baseline: Answers;

beforeAll(async () => {
  const sink = openSync('/dev/null', 'w');
  const prev = process.cwd();
  try {
    process.chdir(ROOT);
    const s = record({ image: resolve(prev, 'guests/bin/compute-musl'), args: ['1'], root: ROOT, random: fixedRandom, stdout: sink, stderr: sink, out: base, syncEvery: 2048, checkpointEvery: 5000 });
    if ('error' in s) throw new Error(s.error);
  } finally {
    process.chdir(prev);
    closeSync(sink);
  }
  // the answers of the undamaged trace, from a copy (so no cached index is copied into the variants)
  const copy = join(tmp.dir, 'undamaged');
  cpSync(base, copy, { recursive: true });
  baseline = await answers(copy, false);
}, 300_000);

describe('damaged copies of a trace', () => {
  it('the undamaged trace answers', () => {
    expect(baseline.info).toMatch(/^\{"steps":\d+/);
    expect(baseline.step).toMatch(/^RAX=/);
    expect(baseline.count).toMatch(/^\[\["\d+"\]\]$|^\[\[\d+\]\]$/);
    expect(baseline.verify).toMatch(/^verified \d+$/);
  });

  it('every variant answers as the undamaged trace or refuses cleanly; with --allow-partial it serves a true prefix', async () => {
    const all = variants();
    expect(all.length).toBeGreaterThan(200);
    const counts = { identical: 0, refused: 0, reported: 0, wrong: 0, crashed: 0 };
    const partial = { identical: 0, prefix: 0, refused: 0, wrong: 0, crashed: 0 };
    const wrong: string[] = [];
    const steps = Number(/verified (\d+)/.exec(baseline.verify)![1]);
    for (const [k, v] of all.entries()) {
      const dir = join(tmp.dir, `v${k}`);
      cpSync(base, dir, { recursive: true });
      v.apply(dir);
      const got = await answers(dir, false);
      for (const key of ['info', 'step', 'count', 'verify'] as const) {
        const a = got[key];
        if (a.startsWith('CRASH')) { counts.crashed++; wrong.push(`${v.name}: ${key}: ${a}`); }
        else if (a === baseline[key]) counts.identical++;
        else if (a.startsWith('REFUSED') && !a.includes('\n')) counts.refused++;
        else if (key === 'info' && a.startsWith('DAMAGE-REPORTED')) counts.reported++;
        else { counts.wrong++; wrong.push(`${v.name}: ${key}: ${a.slice(0, 200)}`); }
      }
      // --allow-partial: whatever is served is the undamaged trace's prefix
      if (k % 8 === 0) {
        const p = await answers(dir, true);
        const served = /^\[\["?(\d+)"?\]\]$/.exec(p.count);
        for (const key of ['step', 'count', 'verify'] as const) {
          const a = p[key];
          if (a.startsWith('CRASH')) { partial.crashed++; wrong.push(`${v.name} (partial): ${key}: ${a}`); }
          else if (a === baseline[key]) partial.identical++;
          else if (a.startsWith('REFUSED')) partial.refused++;
          else if (key === 'count' && served !== null && Number(served[1]) < steps) partial.prefix++;
          else if (key === 'verify' && /^verified \d+$/.test(a) && Number(a.slice(9)) < steps && served !== null && Number(a.slice(9)) === Number(served[1])) partial.prefix++;
          else { partial.wrong++; wrong.push(`${v.name} (partial): ${key}: ${a.slice(0, 200)}`); }
        }
      }
      rmSync(dir, { recursive: true, force: true });
    }
    console.log(`fuzz: ${all.length} variants x 4 answers: ${counts.identical} identical, ${counts.refused} refused, ${counts.reported} info reports of the damage, ${counts.wrong} wrong, ${counts.crashed} crashed`);
    console.log(`fuzz --allow-partial (every 8th variant x 3 answers): ${partial.identical} identical, ${partial.prefix} a true prefix, ${partial.refused} refused, ${partial.wrong} wrong, ${partial.crashed} crashed`);
    expect(wrong).toEqual([]);
  }, 900_000);

  it('the CLI refuses damaged copies with exit status 2 and one line, no stack trace', () => {
    if (!existsSync(resolve('dist/src/commands/info.js'))) spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json']);
    const cases: [string, (d: string) => void][] = [
      ['flip in regs.arrows', (d) => { const b = readFileSync(join(d, 'regs.arrows')); b[b.length - 100] = b[b.length - 100]! ^ 4; writeFileSync(join(d, 'regs.arrows'), b); }],
      ['meta.json flipped', (d) => { const b = readFileSync(join(d, 'meta.json')); b[256] = b[256]! ^ 4; writeFileSync(join(d, 'meta.json'), b); }],
    ];
    for (const [name, apply] of cases) {
      const dir = join(tmp.dir, `cli-${name.replace(/\W/g, '-')}`);
      cpSync(base, dir, { recursive: true });
      apply(dir);
      for (const args of [['step', dir, '--at', '100', '--regs'], ['query', dir, 'select count(*) from insns'], ['replay', dir, '--verify'], ['info', dir]]) {
        const r = spawnSync(process.execPath, [RUN, ...args], { encoding: 'utf8', timeout: 120_000 });
        const what = `${name}: trace ${args[0]}`;
        expect(r.stderr, what).not.toMatch(/\n\s+at |Error:/);
        if (args[0] === 'info' && r.status === 0) {
          // info describes the damage (it refuses only a trace whose meta.json it cannot read)
          expect(r.stdout, what).toMatch(/^status +damaged|^status +unusable/m);
        } else {
          expect(r.status, `${what}: ${r.stderr}`).toBe(2);
          expect(r.stderr.trim().split('\n'), what).toHaveLength(1);
        }
      }
    }
  }, 600_000);
});
