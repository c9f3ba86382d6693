// modules.json of a trace directory: the modules of the recorded process (every executable mapping of an ELF file:
// program, interpreter, shared libraries), written when the recording ends, with its checksum (sealed-json.ts).
// Optional: a trace without one reads as having no modules; a damaged one is damage (trace-check.ts).
import { join } from 'node:path';
import { readSealedFile, sealJson } from './sealed-json.js';
import { writeFileAtomic } from './trace-writer.js';

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

/** Write modules.json into a trace directory (atomically, with its checksum). */
export function writeModules(dir: string, modules: readonly TraceModule[]): void {
  const rows: ModuleJson[] = modules.map((m) => ({ ...m, base: m.base.toString(16), start: m.start.toString(16), size: m.size.toString() }));
  writeFileAtomic(join(dir, 'modules.json'), sealJson({ modules: rows }));
}

/** The modules of modules.json (none if the file is absent), or what is wrong with the file. */
export function loadModules(dir: string): TraceModule[] | { error: string } {
  const path = join(dir, 'modules.json');
  const sealed = readSealedFile(path);
  if (sealed === undefined) return [];
  if ('error' in sealed) return sealed;
  const o = sealed.value;
  if (!Array.isArray(o.modules)) return { error: `${path}: no module list` };
  try {
    return (o.modules as ModuleJson[]).map((r) => ({ ...r, base: BigInt(`0x${r.base}`), start: BigInt(`0x${r.start}`), size: BigInt(r.size) }));
  } catch (e) {
    return { error: `${path}: ${(e as Error).message}` };
  }
}

/** The modules of a trace (none if the file is absent or damaged: trace checks report damage). */
export function readModules(dir: string): TraceModule[] {
  const m = loadModules(dir);
  return 'error' in m ? [] : m;
}
