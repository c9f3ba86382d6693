// The DuckDB tables an index holds for the big trace tables, column by column: name and type in SQL and byte width
// in the Arrow stores, so a chunk is filled by copying bytes. Enumerations are stored as ENUM (one byte, the
// same byte the trace stores): regs.reg is the register's name, mem.access is 'r' or 'w'.
import { BOOLEAN, DuckDBType, ENUM8, UBIGINT, UINTEGER, UTINYINT } from '@duckdb/node-api';
import { ScanColumn } from './column-scan.js';
import { REGISTERS } from '../trace/registers.js';
import { TableName } from '../trace/schema.js';

/** Register names in id order: the values of the `reg` ENUM (its index is the trace's register number). */
export const REGISTER_NAMES: readonly string[] = REGISTERS.map((r) => r.name);

/** The ENUM type of regs.reg. */
export const REG_ENUM: DuckDBType = ENUM8(REGISTER_NAMES);

/** The ENUM type of mem.access (0 read, 1 write in the trace). */
export const ACCESS_ENUM: DuckDBType = ENUM8(['r', 'w']);

/** A big trace table copied into DuckDB byte for byte. */
export interface BulkTable {
  /** The trace table read. */
  readonly source: TableName;
  /** The DuckDB table written. */
  readonly table: string;
  /** Its columns, in the trace table's column order. */
  readonly columns: readonly ScanColumn[];
}

const col = (name: string, type: DuckDBType, width: ScanColumn['width']): ScanColumn => ({ name, type, width });

/** The tables copied with the column scan (the per-step tables). */
export const BULK_TABLES: readonly BulkTable[] = [
  {
    source: 'insns', table: 'steps',
    columns: [col('seq', UBIGINT, 8), col('rip', UBIGINT, 8), col('ring', UTINYINT, 1), col('length', UTINYINT, 1), col('code', UINTEGER, 4), col('faulted', BOOLEAN, 1)],
  },
  {
    source: 'regs', table: 'regs',
    columns: [col('seq', UBIGINT, 8), col('reg', REG_ENUM, 1), col('value', UBIGINT, 8)],
  },
  {
    source: 'mem', table: 'mem',
    columns: [col('seq', UBIGINT, 8), col('addr', UBIGINT, 8), col('size', UTINYINT, 1), col('access', ACCESS_ENUM, 1), col('value', UBIGINT, 8), col('old_value', UBIGINT, 8)],
  },
];
