// `npm run bench startup [TRACE]`: fresh-process start-up of the CLI against Node's own (`node -e 0`), measured in
// the same run. Each command runs RUNS times, interleaved with the others (so a burst of load on the shared machine
// hits all of them alike), and the median wall and CPU time are reported with their ratio to node's. CPU time is
// the child's user+system time, read from /proc/<shell>/stat (cutime+cstime, clock ticks) by the shell that waited
// for it, so no external `time` program is needed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One command's figures. */
export interface StartupRow {
  /** What ran, as a user would type it. */
  readonly name: string;
  /** Median wall time, seconds. */
  readonly wall: number;
  /** Median CPU time (user + system), seconds. */
  readonly cpu: number;
  /** Every run's wall time, seconds. */
  readonly walls: readonly number[];
  /** Exit status of the last run. */
  readonly status: number;
}

/** The figures of one run of the benchmark. */
export interface StartupBench {
  /** The trace that `info` and `step` read. */
  readonly trace: string;
  /** node -e 0 first, then the trace commands. */
  readonly rows: readonly StartupRow[];
}

const RUNS = 9;
// clock ticks per second of /proc/PID/stat (USER_HZ, 100 on Linux)
const TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

// the shell runs the command, then reads its own stat: fields 16 and 17 are the CPU ticks of waited-for children
const SCRIPT = '"$@" >/dev/null 2>&1; s=$?; read -r l < /proc/$$/stat; echo "$s ${l##*) }"';

function once(argv: readonly string[]): { wall: number; cpu: number; status: number } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('sh', ['-c', SCRIPT, 'sh', ...argv], { encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const f = r.stdout.trim().split(/\s+/);
  // after "pid (comm) " the fields start at 3 (state): cutime is field 16, cstime 17
  const cpu = (Number(f[1 + 16 - 3]) + Number(f[1 + 17 - 3])) / TICKS;
  return { wall, cpu, status: Number(f[0]) };
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Records the compute sample unless `trace` names a recording, builds its step index, then times the commands. */
export function benchStartup(root: string, trace?: string): StartupBench {
  const run = join(root, 'bin', 'run.js');
  const node = process.execPath;
  let t = trace;
  if (t === undefined) {
    t = join(mkdtempSync(join(tmpdir(), 'itrace-startup-')), 'compute.trace');
    const r = spawnSync(node, [run, 'record', '-o', t, join(root, 'guests/bin/compute-musl'), '3000'], { encoding: 'utf8' });
    if (r.status !== 0 || !existsSync(t)) throw new Error(`trace record failed: ${r.stderr}`);
  }
  // the first step builds the index; the figures are for calls after it exists
  spawnSync(node, [run, 'step', t, '--at', '0'], { encoding: 'utf8' });
  const cases: { name: string; argv: string[] }[] = [
    { name: 'node -e 0', argv: [node, '-e', '0'] },
    { name: 'trace --help', argv: [run, '--help'] },
    { name: 'trace info T', argv: [run, 'info', t] },
    { name: 'trace step T', argv: [run, 'step', t] },
  ];
  const samples = cases.map(() => ({ walls: [] as number[], cpus: [] as number[], status: 0 }));
  for (let i = 0; i < RUNS; i++) {
    cases.forEach((c, k) => {
      const r = once(c.argv);
      samples[k]!.walls.push(r.wall);
      samples[k]!.cpus.push(r.cpu);
      samples[k]!.status = r.status;
    });
  }
  return {
    trace: t,
    rows: cases.map((c, k) => ({ name: c.name, wall: median(samples[k]!.walls), cpu: median(samples[k]!.cpus), walls: samples[k]!.walls, status: samples[k]!.status })),
  };
}

/** Prints the table: each command's median wall and CPU time and its ratio to node -e 0 (target: ≤ 3×). */
export function printStartupBench(b: StartupBench): void {
  const base = b.rows[0]!;
  console.log(`trace: ${b.trace}; ${RUNS} runs each, interleaved; medians`);
  for (const r of b.rows) {
    console.log(`${r.name.padEnd(16)} wall ${r.wall.toFixed(3)} s (${(r.wall / base.wall).toFixed(2)}× node)  ` +
      `cpu ${r.cpu.toFixed(2)} s (${(r.cpu / base.cpu).toFixed(2)}× node)  exit ${r.status}  runs: ${r.walls.map((w) => w.toFixed(2)).join(' ')}`);
  }
}
