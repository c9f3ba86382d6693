// SQL run at the end of an index build: the tables derived from the copied ones (calls with their arguments and
// return values, page faults with their handler steps, system calls with their kernel steps), then the views
// (the per-step tables over their Parquet files, insns, ring_switches).
import { PARQUET_TABLES } from './index-tables.js';

/**
 * Statements that derive calls (from the table function `itrace_scan_calls()`), page_faults (from events and the
 * re-execution steps found while scanning, table pf_reexec) and syscalls (`lastSeq`: the trace's last step).
 */
export function derivedSql(lastSeq: number): string[] {
  return [
    `CREATE TABLE calls AS
     SELECT c.call_seq, nullif(c.return_seq, -1)::UBIGINT AS return_seq, c.end_seq,
            CASE c.ended WHEN 0 THEN 'return' WHEN 1 THEN 'unwind' ELSE 'open' END AS ended,
            c.depth, c.ring, nullif(c.parent_seq, -1)::UBIGINT AS parent_seq,
            c.caller_rip, cs.symbol AS caller_symbol, c.target, ts.callee AS symbol, c.rsp,
            c.arg0, c.arg1, c.arg2, c.arg3, c.arg4, c.arg5, CASE WHEN c.return_seq >= 0 THEN c.ret_value END AS ret_value,
            c.inclusive, c.exclusive
     FROM itrace_scan_calls() c
     LEFT JOIN (SELECT DISTINCT rip, symbol FROM code) cs ON cs.rip = c.caller_rip
     LEFT JOIN (SELECT DISTINCT rip, callee FROM code) ts ON ts.rip = c.target
     ORDER BY c.call_seq`,
    `CREATE TABLE page_faults AS
     SELECT e.seq, e.from_rip AS rip, e.cr2, e.error_code, e.from_ring AS ring, r.reexec_seq,
            r.reexec_seq - e.seq - 1 AS handler_steps
     FROM events e
     LEFT JOIN pf_reexec r ON r.seq = e.seq AND r.rip = e.from_rip AND r.ring = e.from_ring
     WHERE e.kind = 'page_fault'
     ORDER BY e.seq`,
    'DROP TABLE pf_reexec',
    `CREATE TABLE syscalls AS
     SELECT entry_seq, nullif(return_seq, -1)::UBIGINT AS return_seq, number, name, arg0, arg1, arg2, arg3, arg4, arg5,
            CASE WHEN return_seq >= 0 THEN result END AS result,
            (CASE WHEN return_seq >= 0 THEN return_seq ELSE ${lastSeq}::UBIGINT END) - entry_seq AS kernel_steps
     FROM syscalls_raw ORDER BY entry_seq`,
    'DROP TABLE syscalls_raw',
  ];
}

/** Statements creating the views, given the Parquet file of each table of PARQUET_TABLES (absolute paths, in order). */
export function viewSql(parquet: readonly string[]): string[] {
  const str = (x: string): string => `'${x.replaceAll("'", "''")}'`;
  return [
    ...PARQUET_TABLES.map((t, k) => `CREATE VIEW ${t.table} AS SELECT ${t.select} FROM read_parquet(${str(parquet[k]!)})`),
    `CREATE VIEW insns AS
     SELECT s.seq, s.rip, s.ring, s.length, c.bytes, c.mnemonic, c.disassembly, c.symbol, c.offset, s.faulted, s.code, r.tid, r.pid
     FROM steps s LEFT JOIN code c ON c.id = s.code ASOF LEFT JOIN schedule r ON s.seq >= r.seq`,
    `CREATE VIEW ring_switches AS
     SELECT seq, kind, vector, from_ring, to_ring, from_rip, to_rip FROM events WHERE from_ring <> to_ring`,
  ];
}
