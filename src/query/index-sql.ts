// SQL run at the end of an index build: the tables derived from the copied ones (calls with their arguments and
// return values, page faults with their handler steps, system calls with their kernel steps) and the views.

/** Statements that derive calls, page_faults, syscalls and the views, in order. */
export function derivedSql(): string[] {
  return [
    `CREATE TABLE calls AS
     SELECT c.call_seq, nullif(c.return_seq, -1)::UBIGINT AS return_seq, c.end_seq,
            CASE c.ended WHEN 0 THEN 'return' WHEN 1 THEN 'unwind' ELSE 'open' END AS ended,
            c.depth, c.ring, nullif(c.parent_seq, -1)::UBIGINT AS parent_seq,
            c.caller_rip, cs.symbol AS caller_symbol, c.target, ts.symbol AS symbol, c.rsp,
            c.arg0, c.arg1, c.arg2, c.arg3, c.arg4, c.arg5, CASE WHEN c.return_seq >= 0 THEN c.ret_value END AS ret_value,
            c.inclusive, c.exclusive
     FROM calls_raw c
     LEFT JOIN (SELECT DISTINCT rip, symbol FROM code) cs ON cs.rip = c.caller_rip
     LEFT JOIN (SELECT DISTINCT rip, symbol FROM code) ts ON ts.rip = c.target
     ORDER BY c.call_seq`,
    'DROP TABLE calls_raw',
    `CREATE TABLE page_faults AS
     SELECT e.seq, e.from_rip AS rip, e.cr2, e.error_code, e.from_ring AS ring, r.reexec_seq,
            r.reexec_seq - e.seq - 1 AS handler_steps
     FROM events e
     LEFT JOIN LATERAL (SELECT min(s.seq) AS reexec_seq FROM steps s WHERE s.seq > e.seq AND s.rip = e.from_rip AND s.ring = e.from_ring) r ON true
     WHERE e.kind = 'page_fault'
     ORDER BY e.seq`,
    `CREATE TABLE syscalls AS
     SELECT entry_seq, nullif(return_seq, -1)::UBIGINT AS return_seq, number, name, arg0, arg1, arg2, arg3, arg4, arg5,
            CASE WHEN return_seq >= 0 THEN result END AS result,
            (CASE WHEN return_seq >= 0 THEN return_seq ELSE (SELECT max(seq) FROM steps) END) - entry_seq AS kernel_steps
     FROM syscalls_raw ORDER BY entry_seq`,
    'DROP TABLE syscalls_raw',
    `CREATE VIEW insns AS
     SELECT s.seq, s.rip, s.ring, s.length, c.bytes, c.mnemonic, c.disassembly, c.symbol, c.offset, s.faulted, s.code
     FROM steps s LEFT JOIN code c ON c.id = s.code`,
    `CREATE VIEW ring_switches AS
     SELECT seq, kind, vector, from_ring, to_ring, from_rip, to_rip FROM events WHERE from_ring <> to_ring`,
  ];
}
