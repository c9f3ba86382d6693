// The diff's facts in SQL: a QuerySession over both traces (attached as a and b, with their indexes and
// macros) plus temporary tables diff_divergence, diff_causes, diff_regions, diff_profile and diff_syscalls, loaded
// before the session's sandbox closes; the user's SQL then runs sandboxed as in `trace query`.
import { QueryError, QueryResult, QuerySession } from '../query/query-session.js';
import { DiffResult } from './diff-traces.js';

const str = (s: string | null | undefined): string => (s === null || s === undefined ? 'NULL' : `'${s.replaceAll("'", "''")}'`);
const num = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? 'NULL' : String(x));

function table(name: string, columns: string, rows: string[][]): string[] {
  const out = [`CREATE TEMP TABLE ${name} (${columns})`];
  for (let i = 0; i < rows.length; i += 500) out.push(`INSERT INTO ${name} VALUES ${rows.slice(i, i + 500).map((r) => `(${r.join(', ')})`).join(', ')}`);
  return out;
}

/** The CREATE/INSERT statements of the diff tables. */
export function diffTableStatements(r: DiffResult): string[] {
  const d = r.firstDivergence;
  const div = d === null ? [] : [[str(d.kind), num(d.seq), str(d.a.rip), str(d.b.rip), str(d.a.disassembly), str(d.b.disassembly),
    str(d.a.symbol), str(d.b.symbol), str(JSON.stringify({ values: d.a.values, memory: d.a.memory })), str(JSON.stringify({ values: d.b.values, memory: d.b.memory })),
    str(d.cause?.description), str(d.cause?.reason)]];
  return [
    ...table('diff_divergence', 'kind VARCHAR, seq BIGINT, a_rip VARCHAR, b_rip VARCHAR, a_disassembly VARCHAR, b_disassembly VARCHAR, a_symbol VARCHAR, b_symbol VARCHAR, a_values JSON, b_values JSON, cause VARCHAR, cause_reason VARCHAR', div),
    ...table('diff_causes', 'kind VARCHAR, what VARCHAR, seq_a BIGINT, seq_b BIGINT, description VARCHAR, a VARCHAR, b VARCHAR',
      r.causes.map((c) => [str(c.kind), str(c.what), num(c.seqA), num(c.seqB), str(c.description), str(c.a), str(c.b)])),
    ...table('diff_regions', 'kind VARCHAR, symbol VARCHAR, depth INTEGER, a_call BIGINT, a_ret BIGINT, b_call BIGINT, b_ret BIGINT',
      r.regions.map((g) => [str(g.kind), str(g.symbol), num(g.depth), num(g.a?.[0]), num(g.a?.[1]), num(g.b?.[0]), num(g.b?.[1])])),
    ...table('diff_profile', 'symbol VARCHAR, steps_a BIGINT, steps_b BIGINT, calls_a BIGINT, calls_b BIGINT',
      r.profile.map((p) => [str(p.symbol), num(p.stepsA), num(p.stepsB), num(p.callsA), num(p.callsB)])),
    ...table('diff_syscalls', 'kind VARCHAR, name VARCHAR, a_entry BIGINT, a_result BIGINT, b_entry BIGINT, b_result BIGINT',
      r.syscalls.map((s) => [str(s.kind), str(s.name), num(s.a?.entry), s.a?.result ?? 'NULL', num(s.b?.entry), s.b?.result ?? 'NULL'])),
  ];
}

/** Run SQL with both traces attached as a and b and the diff tables loaded. */
export async function diffSql(r: DiffResult, sql: string): Promise<QueryResult | QueryError> {
  const session = await QuerySession.open([{ alias: 'a', dir: r.a.dir }, { alias: 'b', dir: r.b.dir }], { setup: diffTableStatements(r) });
  if ('error' in session) return { error: session.error, refused: false };
  try {
    return await session.run(sql);
  } finally {
    session.closeSync();
  }
}
