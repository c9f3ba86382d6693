// `npm run bench query`: index build rate and query times of `trace query` on a recording of >= 20 M steps
// (guests/bin/compute-musl 11000, recorded once here: ~15-20 s).
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { record } from '../src/recorder/record.js';
import { buildIndex } from '../src/query/build-index.js';
import { QuerySession } from '../src/query/query-session.js';

export interface QueryBench {
  steps: number;
  rows: number;
  indexSeconds: number;
  copySeconds: number;
  queries: { name: string; sql: string; ms: number[] }[];
}

/** Record `image args`, index it, and time the benchmark questions (3 runs each). */
export async function benchQuery(image: string, args: string[], root: string): Promise<QueryBench | string> {
  const tmp = mkdtempSync(join(tmpdir(), 'itrace-bench-query-'));
  const dir = join(tmp, 'trace');
  const out = openSync('/dev/null', 'w');
  const prev = process.cwd();
  try {
    process.chdir(root);
    const s = record({ image, args, root, stdout: out, stderr: out, out: dir });
    if ('error' in s) return s.error;
    process.chdir(prev);
    const built = await buildIndex(dir);
    if ('error' in built) return built.error;
    const session = await QuerySession.open([{ alias: 't', dir }]);
    if ('error' in session) return session.error;
    try {
      const pick = await session.run(`select addr, seq from mem where access = 'w' and seq > ${Math.floor(s.steps * 0.9)} order by seq limit 1`);
      if ('error' in pick) return pick.error;
      const [addr, seq] = pick.rows[0] as [bigint, bigint];
      const qs = [
        { name: 'steps per function (insns view)', sql: 'select symbol, count(*) steps from insns group by symbol order by steps desc' },
        { name: 'steps per function (steps by code row, then symbols)', sql: 'select c.symbol, sum(n) steps from (select code, count(*) n from steps group by code) s join code c on c.id = s.code group by c.symbol order by steps desc' },
        { name: `last write to ${addr} before seq ${seq} (last_write macro)`, sql: `select * from last_write(${addr}, ${seq})` },
        { name: 'last write, plain SQL on mem', sql: `select seq, value from mem where access = 'w' and addr <= ${addr} and ${addr} < addr + size and seq < ${seq} order by seq desc limit 1` },
        { name: 'calls per function', sql: 'select symbol, count(*) calls, sum(inclusive) inclusive from calls group by symbol order by calls desc' },
        { name: 'deepest call chain', sql: 'select max(depth) from calls' },
      ];
      const queries: QueryBench['queries'] = [];
      for (const q of qs) {
        const ms: number[] = [];
        for (let i = 0; i < 3; i++) {
          const t0 = performance.now();
          const r = await session.run(q.sql);
          if ('error' in r) return `${q.name}: ${r.error}`;
          ms.push(performance.now() - t0);
        }
        queries.push({ ...q, ms });
      }
      return { steps: s.steps, rows: built.rows, indexSeconds: built.seconds, copySeconds: built.copySeconds, queries };
    } finally {
      session.closeSync();
    }
  } finally {
    process.chdir(prev);
    closeSync(out);
    rmSync(tmp, { recursive: true, force: true });
  }
}
