// apache-arrow, loaded on first use. Its ES-module build is ~600 files that take a quarter of a CPU-second to
// resolve and link at every start of the CLI, and most commands never touch an Arrow batch (`trace step` with its
// index built, `trace --help`). Every module of this package takes Arrow's values from arrow() and only its types
// from 'apache-arrow' (`import type`), so one copy of the library (its CommonJS build, which `require` can load
// synchronously on demand) is used everywhere and instanceof checks across modules hold. The zstd codec is
// registered with that copy as it loads.
import { createRequire } from 'node:module';
import type * as ArrowLib from 'apache-arrow';
import { registerZstd } from './compression.js';

/** The apache-arrow module. */
export type Arrow = typeof ArrowLib;

let lib: Arrow | undefined;

/** The apache-arrow module, loaded (and the zstd codec registered) on the first call. */
export function arrow(): Arrow {
  if (lib === undefined) {
    lib = createRequire(import.meta.url)('apache-arrow') as Arrow;
    registerZstd(lib);
  }
  return lib;
}
