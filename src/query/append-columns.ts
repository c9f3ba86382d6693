// Appends small tables (symbols, events, system calls, code rows...) to DuckDB from JS values, column by column,
// through the appender with data chunks. The per-step tables use the byte-copying column scan instead.
import { DuckDBConnection, DuckDBDataChunk, DuckDBType, DuckDBValue } from '@duckdb/node-api';

const CHUNK_ROWS = 2048;

/** Create `table` with these columns and append the rows given column-wise (all columns the same length). */
export async function appendColumns(con: DuckDBConnection, table: string, columns: readonly { name: string; sqlType: string; type: DuckDBType; values: readonly DuckDBValue[] }[]): Promise<void> {
  await con.run(`CREATE TABLE ${table} (${columns.map((c) => `"${c.name}" ${c.sqlType}`).join(', ')})`);
  const n = columns[0]?.values.length ?? 0;
  if (n === 0) return;
  const appender = await con.createAppender(table);
  try {
    const chunk = DuckDBDataChunk.create(columns.map((c) => c.type));
    for (let off = 0; off < n; off += CHUNK_ROWS) {
      const m = Math.min(CHUNK_ROWS, n - off);
      chunk.rowCount = m;
      chunk.setColumns(columns.map((c) => c.values.slice(off, off + m)));
      appender.appendDataChunk(chunk);
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}
