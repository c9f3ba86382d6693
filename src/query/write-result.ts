// `--output FILE`: a query result written to a host file by this code, never by the user's SQL (which runs
// sandboxed). CSV and JSON are the text formats of format-result.ts; Parquet goes through a private in-memory
// DuckDB that holds only the result's rows. The file is written under a temporary name beside it and renamed into
// place, so a failed write leaves no half file.
import { renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { formatResult } from './format-result.js';
import { QueryResult } from './query-session.js';

/** Formats of `--output`. */
export const OUTPUT_FORMATS = ['csv', 'json', 'parquet'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** The output format a file name implies (by its extension), if any. */
export function formatOfPath(file: string): OutputFormat | undefined {
  const ext = /\.([A-Za-z]+)$/.exec(file)?.[1]?.toLowerCase();
  return OUTPUT_FORMATS.find((f) => f === ext);
}

/** Why `file` cannot be an output file (checked before any SQL runs), or undefined. `traces`: trace directories. */
export function checkOutputPath(file: string, traces: readonly string[]): string | undefined {
  const abs = resolve(file);
  for (const t of traces) {
    const rel = relative(resolve(t), abs);
    if (rel === '' || (!rel.startsWith('..') && !rel.startsWith('/'))) return `${file}: refusing to write inside the trace directory ${t}`;
  }
  try {
    if (!statSync(dirname(abs)).isDirectory()) return `${file}: ${dirname(file)} is not a directory`;
  } catch {
    return `${file}: no such directory ${dirname(file)}`;
  }
  try {
    const st = statSync(abs);
    if (!st.isFile()) return `${file}: exists and is not a regular file`;
  } catch {
    // does not exist yet: fine
  }
  return undefined;
}

/** Write a result to `file`; returns the rows written or an error. */
export async function writeResult(r: QueryResult, file: string, format: OutputFormat): Promise<{ rows: number } | { error: string }> {
  const tmp = join(dirname(resolve(file)), `.${basename(file)}.tmp-${process.pid}`);
  try {
    if (format === 'parquet') await writeParquet(r, tmp);
    else writeFileSync(tmp, formatResult(r, format));
    renameSync(tmp, file);
    return { rows: r.rows.length };
  } catch (e) {
    return { error: `writing ${file}: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}` };
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Column names made unique (DuckDB allows `select 1 x, 2 x`; a table does not). */
function uniqueNames(columns: readonly string[]): string[] {
  const seen = new Set<string>();
  return columns.map((c) => {
    let name = c, k = 1;
    while (seen.has(name.toLowerCase())) name = `${c}_${k++}`;
    seen.add(name.toLowerCase());
    return name;
  });
}

async function writeParquet(r: QueryResult, path: string): Promise<void> {
  const ident = (s: string): string => `"${s.replaceAll('"', '""')}"`;
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  try {
    const names = uniqueNames(r.columns);
    await con.run(`CREATE TABLE result (${names.map((n, i) => `${ident(n)} ${r.types[i]!}`).join(', ')})`);
    const types = (await con.runAndReadAll('SELECT * FROM result LIMIT 0')).columnTypes();
    const appender = await con.createAppender('result');
    try {
      for (const row of r.rows) {
        for (let i = 0; i < row.length; i++) appender.appendValue(row[i]!, types[i]);
        appender.endRow();
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
    await con.run(`COPY result TO '${path.replaceAll("'", "''")}' (FORMAT parquet)`);
  } finally {
    con.closeSync();
    instance.closeSync();
  }
}
