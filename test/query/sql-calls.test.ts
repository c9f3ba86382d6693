// sqlCalls finds the functions a SQL text calls (the sandbox's by-name check), however they are written, and is
// not fooled by names inside string literals or comments.
import { describe, expect, it } from 'vitest';
import { sqlCalls } from '../../src/query/sql-calls.js';

describe('sqlCalls', () => {
  it('finds bare, quoted, qualified and spaced calls', () => {
    expect(sqlCalls("select count(*) from read_csv('/etc/passwd')")).toEqual(['count', 'read_csv']);
    expect(sqlCalls('select * from "Read_Text" (\'x\')')).toEqual(['read_text']);
    expect(sqlCalls('select * from system.main.glob /* c */ (\'/*\')')).toEqual(['glob']);
    expect(sqlCalls('select * from GLOB\n--comment\n(\'/\')')).toEqual(['glob']);
    expect(sqlCalls('select "a""b"(1)')).toEqual(['a"b']);
  });

  it('skips literals and comments', () => {
    expect(sqlCalls("select 'read_csv(1)', $$glob('x')$$, $t$query('y')$t$ -- read_text('z')\n/* glob('/') */")).toEqual([]);
    expect(sqlCalls("select E'it\\'s read_csv(' || lower('X')")).toEqual(['lower']);
    expect(sqlCalls("select 'it''s glob(' as x, upper(x)")).toEqual(['upper']);
  });

  it('a name not followed by a parenthesis is not a call', () => {
    expect(sqlCalls('select glob, query from t where read_csv = 1')).toEqual([]);
  });
});
