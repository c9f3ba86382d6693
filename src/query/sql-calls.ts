// The names of the functions a SQL text calls: every identifier (bare or "quoted", lower-cased) that is followed by
// an opening parenthesis, skipping string literals ('...', E'...', $tag$...$tag$) and comments (-- and /* */).
// The sandbox refuses SQL that calls a function outside the trace's tables (read_csv, glob, enable_logging, ...)
// before any of it runs; DuckDB's own external-access switch is the second wall behind this one.

const IDENT_START = /[A-Za-z_\u0080-\uffff]/;
const IDENT_PART = /[A-Za-z0-9_$\u0080-\uffff]/;

/** Lower-cased names of the functions called in `sql` (in order of appearance, repeats kept). */
export function sqlCalls(sql: string): string[] {
  const calls: string[] = [];
  let pending: string | undefined; // the last identifier, while only blanks or comments follow it
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    if (c === '-' && sql[i + 1] === '-') {
      while (i < n && sql[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
      continue;
    }
    if (/\s/.test(c)) { i++; continue; }
    if (c === '(') {
      if (pending !== undefined) calls.push(pending);
      pending = undefined;
      i++;
      continue;
    }
    pending = undefined;
    if (c === "'") { i = skipQuoted(sql, i, "'"); continue; }
    if (c === '"') {
      const end = skipQuoted(sql, i, '"');
      pending = sql.slice(i + 1, end - 1).replaceAll('""', '"').toLowerCase();
      i = end;
      continue;
    }
    if (c === '$') {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      if (tag !== null) {
        const end = sql.indexOf(tag[0], i + tag[0].length);
        i = end < 0 ? n : end + tag[0].length;
        continue;
      }
      i++;
      continue;
    }
    if (IDENT_START.test(c)) {
      let j = i + 1;
      while (j < n && IDENT_PART.test(sql[j]!)) j++;
      const word = sql.slice(i, j);
      // E'...' (escape string) and the like: a one-letter prefix glued to a quote is part of a literal
      if (sql[j] === "'" && /^[EeXxBbNnRr]$/.test(word)) { i = skipQuoted(sql, j, "'", word === 'E' || word === 'e'); continue; }
      pending = word.toLowerCase();
      i = j;
      continue;
    }
    i++;
  }
  return calls;
}

/** Index just past the literal or quoted identifier starting at `start` (a doubled quote is part of it). */
function skipQuoted(sql: string, start: number, quote: string, backslash = false): number {
  let i = start + 1;
  while (i < sql.length) {
    const c = sql[i]!;
    if (backslash && c === '\\') { i += 2; continue; }
    if (c === quote) {
      if (sql[i + 1] === quote) { i += 2; continue; }
      return i + 1;
    }
    i++;
  }
  return sql.length;
}
