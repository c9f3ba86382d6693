// The per-step tables of an index, column by column. Each is first written as a Parquet file (from the trace's
// own compressed column bodies, see parquet-writer.ts). steps and regs stay Parquet files beside the index, behind
// views of the same names that give the columns their SQL names and types; mem is loaded into a DuckDB table (by
// DuckDB's threads, while the build goes on), because DuckDB's own storage answers the selective questions asked of
// it ("last write to an address before seq N") 5x faster than a Parquet scan. Enumerations become ENUM types of the
// index: regs.reg is the register's name (type reg_name, in register-number order), mem.access is 'r' or 'w'
// (type access_kind).
import { ParquetColumn } from './parquet-writer.js';
import { REGISTERS } from '../trace/registers.js';
import { TableName } from '../trace/schema.js';

/** Register names in id order: the values of the `reg` ENUM (its index is the trace's register number). */
export const REGISTER_NAMES: readonly string[] = REGISTERS.map((r) => r.name);

/** The values of mem.access (0 read, 1 write in the trace). */
export const ACCESS_NAMES: readonly string[] = ['r', 'w'];

/** A big trace table stored as a Parquet file. */
export interface BulkTable {
  /** The trace table read. */
  readonly source: TableName;
  /** The view of the index (and the Parquet file's middle name: query.<table>.parquet). */
  readonly table: string;
  /** Its columns, in the trace table's column order (the first is seq, ascending). */
  readonly columns: readonly ParquetColumn[];
  /** The select list over the Parquet columns giving the SQL columns. */
  readonly select: string;
  /** 'view': a view over the Parquet file kept beside the index; 'table': loaded into the DuckDB file. */
  readonly stored: 'view' | 'table';
}

/** The per-step tables, in the order they are written (the table first, so that DuckDB loads it meanwhile). */
export const BULK_TABLES: readonly BulkTable[] = [
  {
    source: 'mem', table: 'mem',
    columns: [
      { name: 'seq', kind: 'u64delta', sorted: true }, { name: 'addr', kind: 'u64' }, { name: 'size', kind: 'u8' },
      { name: 'access', kind: 'names', names: ACCESS_NAMES }, { name: 'value', kind: 'u64' }, { name: 'old_value', kind: 'u64' },
    ],
    select: 'seq, addr, size, access::access_kind AS access, value, old_value',
    stored: 'table',
  },
  {
    source: 'insns', table: 'steps',
    columns: [
      { name: 'seq', kind: 'u64delta', sorted: true }, { name: 'rip', kind: 'u64' }, { name: 'ring', kind: 'u8' }, { name: 'length', kind: 'u8' },
      { name: 'code', kind: 'u32' }, { name: 'faulted', kind: 'bool' },
    ],
    select: 'seq, rip, ring, length, code, faulted',
    stored: 'view',
  },
  {
    source: 'regs', table: 'regs',
    columns: [{ name: 'seq', kind: 'u64delta', sorted: true }, { name: 'reg', kind: 'names', names: REGISTER_NAMES }, { name: 'value', kind: 'u64' }],
    select: 'seq, reg::reg_name AS reg, value',
    stored: 'view',
  },
];

/** The bulk tables kept as Parquet files behind views. */
export const PARQUET_TABLES: readonly BulkTable[] = BULK_TABLES.filter((t) => t.stored === 'view');

/** Statements creating the ENUM types the views use. */
export function enumTypesSql(): string[] {
  const list = (names: readonly string[]): string => names.map((n) => `'${n.replaceAll("'", "''")}'`).join(', ');
  return [`CREATE TYPE reg_name AS ENUM (${list(REGISTER_NAMES)})`, `CREATE TYPE access_kind AS ENUM (${list(ACCESS_NAMES)})`];
}

/** Path of a bulk table's Parquet file for an index at `indexPath` (query.duckdb → query.steps.parquet). */
export function parquetPath(indexPath: string, table: string): string {
  return `${indexPath.replace(/\.duckdb$/, '')}.${table}.parquet`;
}
