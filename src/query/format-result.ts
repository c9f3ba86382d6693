// Printing a query result as an aligned text table, CSV (RFC 4180), JSON (an array of row objects; 64-bit integers
// are written as exact JSON numbers) or a Markdown table. BLOBs print as hex bytes.
import { DuckDBBlobValue, DuckDBValue } from '@duckdb/node-api';
import { QueryResult } from './query-session.js';

/** Output formats of `trace query`. */
export const FORMATS = ['table', 'csv', 'json', 'markdown'] as const;
export type Format = (typeof FORMATS)[number];

function text(v: DuckDBValue): string | null {
  if (v === null) return null;
  if (v instanceof DuckDBBlobValue) return Array.from(v.bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
  return String(v);
}

function jsonValue(v: DuckDBValue): string {
  if (v === null) return 'null';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : JSON.stringify(String(v));
  if (typeof v === 'boolean') return String(v);
  return JSON.stringify(text(v));
}

function csvField(s: string | null): string {
  if (s === null) return '';
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

const numeric = /^(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?|DOUBLE|FLOAT|DECIMAL.*)$/;

/** Format a result. */
export function formatResult(r: QueryResult, format: Format): string {
  switch (format) {
    case 'json':
      return `[${r.rows.map((row) => `\n  {${row.map((v, i) => `${JSON.stringify(r.columns[i])}: ${jsonValue(v)}`).join(', ')}}`).join(',')}${r.rows.length > 0 ? '\n' : ''}]\n`;
    case 'csv':
      return [r.columns.map(csvField).join(','), ...r.rows.map((row) => row.map((v) => csvField(text(v))).join(','))].join('\n') + '\n';
    case 'markdown': {
      const esc = (s: string): string => s.replaceAll('|', '\\|');
      const right = r.types.map((t) => numeric.test(t));
      return [
        `| ${r.columns.map(esc).join(' | ')} |`,
        `|${right.map((x) => (x ? '---:' : '---')).join('|')}|`,
        ...r.rows.map((row) => `| ${row.map((v) => esc(text(v) ?? 'NULL')).join(' | ')} |`),
      ].join('\n') + '\n';
    }
    case 'table': {
      const cells = r.rows.map((row) => row.map((v) => text(v) ?? 'NULL'));
      // a loop, not Math.max(...cells): a spread of a few hundred thousand rows overflows the stack
      const widths = r.columns.map((c) => c.length);
      for (const row of cells) for (let i = 0; i < row.length; i++) if (row[i]!.length > widths[i]!) widths[i] = row[i]!.length;
      const right = r.types.map((t) => numeric.test(t));
      const line = (vals: string[], header: boolean): string => vals.map((v, i) => (right[i] === true && !header ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  ').trimEnd();
      const out = [line(r.columns, true), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map((row) => line(row, false))];
      out.push(`(${r.rows.length} row${r.rows.length === 1 ? '' : 's'})`);
      return out.join('\n') + '\n';
    }
  }
}
