// The SQL sandbox of a query session. Two walls, both applied to every statement a user gives:
// 1. DuckDB's own: after the session has attached the indexes (read-only) and created its macros and tables, external
//    access is switched off except for the index's own Parquet files (read by the steps/regs views), extensions can
//    be neither installed nor loaded, and the configuration is locked, so no later SET can undo any of it.
// 2. Ours, before a statement runs: statements that move data between the session and the host (COPY, EXPORT,
//    ATTACH/DETACH, INSTALL/LOAD, PRAGMA, PREPARE/EXECUTE, which could hide a COPY) and calls of functions that
//    read host files or change the session (read_csv, glob, enable_logging, query, ...) are refused with a reason.
// COPY TO is refused even where DuckDB would allow it: the allowed Parquet files themselves could be overwritten.
import { StatementType } from '@duckdb/node-api';
import { sqlCalls } from './sql-calls.js';

const str = (s: string): string => `'${s.replaceAll("'", "''")}'`;

/** Statements that close the session: run after setup, before any user SQL. `readable`: files views may read. */
export function sandboxStatements(readable: readonly string[]): string[] {
  return [
    'SET autoinstall_known_extensions = false',
    'SET autoload_known_extensions = false',
    `SET allowed_paths = [${readable.map(str).join(', ')}]`,
    'SET enable_external_access = false',
    'SET lock_configuration = true',
  ];
}

const EXPORT_HINT = 'write a result to a file with --output FILE --format csv|json|parquet';

/** Why a statement of this type is refused, or undefined if it may run. */
export function refusedStatement(type: StatementType): string | undefined {
  switch (type) {
    case StatementType.COPY:
    case StatementType.EXPORT:
    case StatementType.COPY_DATABASE:
      return `COPY and EXPORT are not available: SQL here cannot read or write host files (${EXPORT_HINT})`;
    case StatementType.ATTACH:
    case StatementType.DETACH:
      return 'ATTACH and DETACH are not available: the session holds the trace indexes it was opened with';
    case StatementType.LOAD:
    case StatementType.EXTENSION:
    case StatementType.UPDATE_EXTENSIONS:
      return 'INSTALL and LOAD are not available: extensions are switched off';
    case StatementType.PRAGMA:
      return 'this PRAGMA changes the session and is not available';
    case StatementType.PREPARE:
    case StatementType.EXECUTE:
      return 'PREPARE and EXECUTE are not available';
    default:
      return undefined;
  }
}

/** Functions that read host files (DuckDB refuses them too, with a less direct message). */
const HOST_FILE_FUNCTIONS = new Set([
  'read_csv', 'read_csv_auto', 'sniff_csv', 'read_parquet', 'parquet_scan', 'parquet_metadata', 'parquet_file_metadata',
  'parquet_full_metadata', 'parquet_kv_metadata', 'parquet_schema', 'parquet_bloom_probe', 'read_json', 'read_json_auto',
  'read_json_objects', 'read_json_objects_auto', 'read_ndjson', 'read_ndjson_auto', 'read_ndjson_objects',
  'read_ndjson_objects_auto', 'read_text', 'read_blob', 'read_duckdb', 'glob', 'import_database', 'copy_database',
]);

/** Functions that change the session or run SQL text (which would escape the statement check). */
const SESSION_FUNCTIONS = new Set([
  'enable_logging', 'disable_logging', 'truncate_duckdb_logs', 'enable_profiling', 'disable_profiling', 'checkpoint',
  'force_checkpoint', 'query', 'query_table', 'json_execute_serialized_sql',
]);

/** Why this SQL text is refused as a whole (a call of a refused function), or undefined. */
export function refusedCalls(sql: string): string | undefined {
  for (const f of sqlCalls(sql)) {
    if (HOST_FILE_FUNCTIONS.has(f)) return `${f}() is not available: SQL here sees only the trace's tables, not host files (${EXPORT_HINT})`;
    if (SESSION_FUNCTIONS.has(f)) return `${f}() is not available in a trace query session`;
  }
  return undefined;
}
