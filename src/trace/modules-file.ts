// modules.json of a trace directory: the modules of the recorded process (every executable mapping of an ELF file:
// program, interpreter, shared libraries), written when the recording ends. Optional: traces recorded before it
// existed have none, and read as having no modules.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One module as stored. */
export interface TraceModule {
  path: string; // guest path of the ELF file
  name: string; // its file name (`module` in `module!symbol`)
  base: bigint; // load bias (where link-time address 0 is; 0 for ET_EXEC)
  start: bigint; // lowest mapped address of its segments
  size: bigint; // bytes from start to the end of its last segment
  buildId: string | null; // GNU build-id, hex, if the file has one
  mapSeq: number; // step at which it was mapped (0: before the first step)
  unmapSeq: number | null; // step at which its last executable mapping went away, or null
}

interface ModuleJson { path: string; name: string; base: string; start: string; size: string; buildId: string | null; mapSeq: number; unmapSeq: number | null }

export function writeModules(dir: string, modules: readonly TraceModule[]): void {
  const rows: ModuleJson[] = modules.map((m) => ({ ...m, base: m.base.toString(16), start: m.start.toString(16), size: m.size.toString() }));
  writeFileSync(join(dir, 'modules.json'), JSON.stringify(rows, null, 1) + '\n');
}

/** The modules of a trace (none if the file is absent or unreadable). */
export function readModules(dir: string): TraceModule[] {
  try {
    const rows = JSON.parse(readFileSync(join(dir, 'modules.json'), 'utf8')) as ModuleJson[];
    return rows.map((r) => ({ ...r, base: BigInt(`0x${r.base}`), start: BigInt(`0x${r.start}`), size: BigInt(r.size) }));
  } catch {
    return [];
  }
}
