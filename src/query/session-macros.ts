// The macros of a query session, created as TEMP macros after the indexes are attached: DuckDB resolves the
// tables a macro names where it is called, not where it was defined, so each macro names its trace explicitly.
// Plain names refer to the first trace; with several traces, `<alias>_state_at(...)` etc. refer to each.
// RIP is not in regs (it is the step's insns.rip): the register macros read it from the step itself.

/** Statements creating the trace-independent macros. */
export function formatMacros(): string[] {
  return [
    `CREATE OR REPLACE TEMP MACRO hex64(x) AS '0x' || lpad(lower(hex(x)), 16, '0')`,
    `CREATE OR REPLACE TEMP MACRO hexaddr(x) AS '0x' || lower(hex(x))`,
  ];
}

/** Statements creating the macros of one attached trace (`catalog`), named with `prefix`. */
export function traceMacros(catalog: string, prefix: string): string[] {
  const t = (name: string): string => `"${catalog}".main.${name}`;
  const p = (name: string): string => `${prefix}${name}`;
  const value = `CASE WHEN g.name = 'rip' THEN (SELECT s.rip FROM ${t('steps')} s WHERE s.seq = before_seq) ELSE coalesce(l.value, g.initial) END`;
  return [
    `CREATE OR REPLACE TEMP MACRO ${p('sym')}(at_address) AS (
       SELECT s.name || CASE WHEN at_address > s.address THEN '+0x' || lower(hex(at_address - s.address)) ELSE '' END
       FROM ${t('symbols')} s WHERE s.address <= at_address AND (at_address < s.address + s.size OR s.size = 0)
       ORDER BY s.address DESC LIMIT 1)`,
    `CREATE OR REPLACE TEMP MACRO ${p('reg_at')}(reg_name, before_seq) AS CASE WHEN reg_name = 'rip' THEN (SELECT s.rip FROM ${t('steps')} s WHERE s.seq = before_seq) ELSE coalesce(
       (SELECT x.value FROM ${t('regs')} x WHERE x.reg = reg_name AND x.seq < before_seq ORDER BY x.seq DESC LIMIT 1),
       (SELECT g.initial FROM ${t('registers')} g WHERE g.name = reg_name)) END`,
    `CREATE OR REPLACE TEMP MACRO ${p('state_at')}(before_seq) AS TABLE
       SELECT g.name AS reg, ${value} AS value, '0x' || lpad(lower(hex(${value})), 16, '0') AS hex
       FROM ${t('registers')} g
       LEFT JOIN (SELECT x.reg::VARCHAR AS reg, arg_max(x.value, x.seq) AS value FROM ${t('regs')} x WHERE x.seq < before_seq GROUP BY x.reg) l ON l.reg = g.name
       ORDER BY g.id`,
    `CREATE OR REPLACE TEMP MACRO ${p('last_write')}(at_address, before_seq) AS TABLE
       WITH w AS (
         SELECT m.seq, m.addr, m.size, m.value, m.old_value FROM ${t('mem')} m
         WHERE m.access = 'w' AND m.seq < before_seq AND m.addr <= at_address::UBIGINT
           AND m.addr >= (CASE WHEN at_address::UBIGINT >= 7 THEN at_address::UBIGINT - 7 ELSE 0 END) AND at_address::UBIGINT < m.addr + m.size
         ORDER BY m.seq DESC LIMIT 1)
       SELECT w.seq, w.addr, w.size, w.value, w.old_value, s.rip, c.symbol, c.disassembly
       FROM w JOIN ${t('steps')} s ON s.seq = w.seq LEFT JOIN ${t('code')} c ON c.id = s.code`,
    `CREATE OR REPLACE TEMP MACRO ${p('call_stack')}(at_seq) AS TABLE
       SELECT * FROM ${t('calls')} WHERE call_seq < at_seq AND end_seq >= at_seq ORDER BY ring DESC, depth`,
  ];
}
