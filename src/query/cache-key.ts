// The identity of what an index was built from: the index format version and the size and modification time of
// every file of the trace it reads (manifest.bin included: its sync points decide the prefix indexed), and the
// trace directory's absolute path (the index's views name its Parquet
// files by absolute path, so a moved trace is re-indexed). A cached index whose key differs from the trace's
// current key is rebuilt.
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TABLES } from '../trace/schema.js';

/** Version of the index layout (tables, views, column types); bump on any change. */
export const INDEX_VERSION = 5; // 4: code.callee (PLT), BOOLEAN columns plain-encoded, processes/threads; 5: all three together

/** File name of the cached index inside a trace directory. */
export const INDEX_FILE = 'query.duckdb';

/** The cache key of a trace directory (a JSON string). */
export function cacheKey(dir: string): string {
  const files = ['meta.json', 'symbols.json', 'modules.json', 'processes.json', 'manifest.bin', 'checkpoints/000000000000.msgpack', ...TABLES.map((t) => `${t.name}.arrows`)];
  const parts = files.map((f) => {
    try {
      const st = statSync(join(dir, f));
      return [f, st.size, Math.round(st.mtimeMs)];
    } catch {
      return [f, null];
    }
  });
  return JSON.stringify({ version: INDEX_VERSION, dir: resolve(dir), files: parts });
}
