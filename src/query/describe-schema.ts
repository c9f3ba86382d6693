// The text `trace query TRACE` prints without SQL: one line per column of every documented relation (with the type
// DuckDB reports for it), then the macros.
import { MACROS, RELATIONS } from './schema-doc.js';
import { QuerySession } from './query-session.js';

/** Schema lines of the session's first trace. */
export async function describeSchema(session: QuerySession): Promise<string[] | { error: string }> {
  const alias = session.traces[0]!.alias.replaceAll("'", "''");
  const r = await session.run(`SELECT table_name, column_name, data_type FROM duckdb_columns() WHERE database_name = '${alias}' AND schema_name = 'main'`);
  if ('error' in r) return r;
  const types = new Map<string, string>();
  for (const [t, c, ty] of r.rows) types.set(`${String(t)}.${String(c)}`, String(ty).startsWith('ENUM') ? 'ENUM' : String(ty));
  const rows: [string, string, string][] = [];
  const out: string[] = [];
  for (const rel of RELATIONS) {
    rows.push([rel.name, '', rel.comment]);
    for (const [col, comment] of Object.entries(rel.columns)) rows.push([`  ${col}`, types.get(`${rel.name}.${col}`) ?? '?', comment]);
  }
  const w0 = Math.max(...rows.map((x) => x[0].length)), w1 = Math.max(...rows.map((x) => x[1].length));
  for (const [a, b, c] of rows) out.push(b === '' ? `${a}: ${c}` : `${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`);
  out.push('', 'macros:');
  const wm = Math.max(...MACROS.map((m) => m.signature.length));
  for (const m of MACROS) out.push(`  ${m.signature.padEnd(wm)}  ${m.comment}`);
  if (session.traces.length > 1) out.push(`  (with several traces: ${session.traces.map((t) => `${t.alias}_state_at(n)`).join(', ')}, ... name each trace; tables are ${session.traces.map((t) => `${t.alias}.insns`).join(', ')}, ...)`);
  return out;
}
