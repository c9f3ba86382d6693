// A checkpoint: the full machine before one step, as one msgpackr file `checkpoints/<seq, 12 digits>.msgpack`.
// Physical pages are stored as a sorted list of frame numbers plus their 4096-byte contents concatenated and
// zstd-compressed when the codec is available; `extra` is any plain data (objects, arrays, Maps, Sets, bigints
// and typed arrays survive the round trip).
import { createRequire } from 'node:module';
import type * as Msgpackr from 'msgpackr';
import { zstdCompress, zstdDecompress } from './compression.js';

let msgpackr: typeof Msgpackr | undefined;

/** Version of the checkpoint layout; readers refuse other versions. */
export const CHECKPOINT_VERSION = 1;

/** Bytes per physical page. */
export const PAGE_SIZE = 4096;

/** A machine snapshot. */
export interface Checkpoint {
  /** Step the snapshot was taken before (the state after steps [0, seq)). */
  readonly seq: number;
  /** The processor state buffer. */
  readonly state: Uint8Array;
  /** Physical frame number → its 4096 bytes. */
  readonly pages: Map<number, Uint8Array>;
  /** Everything else the recorder saved (guest kernel state, ...). */
  readonly extra: Record<string, unknown>;
}

/** The file contents (msgpack map). */
interface CheckpointFile {
  version: number;
  seq: number;
  state: Uint8Array;
  /** Frame numbers, ascending. */
  pfns: number[];
  /** 'zstd' or 'none'. */
  pagesCodec: string;
  /** The pages in pfns order, concatenated (and compressed with pagesCodec). */
  pages: Uint8Array;
  extra: Record<string, unknown>;
}

/**
 * A fresh msgpackr instance: records with their structure inline (`sequential`, so a file needs no shared state),
 * msgpack maps back as Maps, typed arrays/Sets kept, 64-bit integers as bigints. msgpackr keeps state in its
 * options object, so each call gets new ones.
 */
function packr(): Msgpackr.Packr {
  // loaded on first use (its CommonJS build, which `require` loads synchronously): most commands read no checkpoint
  msgpackr ??= createRequire(import.meta.url)('msgpackr') as typeof Msgpackr;
  return new msgpackr.Packr({ useRecords: true, sequential: true, mapsAsObjects: false, moreTypes: true, int64AsType: 'bigint' });
}

/** Serialise a checkpoint. */
export function packCheckpoint(seq: number, state: Uint8Array, pages: Map<number, Uint8Array>, extra: Record<string, unknown>): Uint8Array {
  const pfns = [...pages.keys()].sort((a, b) => a - b);
  const raw = new Uint8Array(pfns.length * PAGE_SIZE);
  pfns.forEach((pfn, i) => {
    const p = pages.get(pfn)!;
    if (p.length !== PAGE_SIZE) throw new Error(`checkpoint page ${pfn} has ${p.length} bytes, not ${PAGE_SIZE}`);
    raw.set(p, i * PAGE_SIZE);
  });
  const z = raw.length > 0 ? zstdCompress(raw) : null;
  const file: CheckpointFile = {
    version: CHECKPOINT_VERSION, seq, state: new Uint8Array(state), pfns,
    pagesCodec: z === null ? 'none' : 'zstd', pages: z ?? raw, extra,
  };
  return packr().pack(file);
}

/** Deserialise a checkpoint; errors are values. */
export function unpackCheckpoint(data: Uint8Array): Checkpoint | { error: string } {
  let f: CheckpointFile;
  try {
    f = packr().unpack(data) as CheckpointFile;
  } catch (e) {
    return { error: `corrupt checkpoint: ${(e as Error).message}` };
  }
  if (typeof f !== 'object' || f === null || f.version !== CHECKPOINT_VERSION) {
    return { error: `unsupported checkpoint version ${String((f as Partial<CheckpointFile> | null)?.version)} (this build reads ${CHECKPOINT_VERSION})` };
  }
  let raw: Uint8Array;
  if (f.pagesCodec === 'none') raw = f.pages;
  else if (f.pagesCodec === 'zstd') {
    const r = zstdDecompress(f.pages);
    if ('error' in r) return r;
    raw = r;
  } else return { error: `unknown checkpoint page codec ${f.pagesCodec}` };
  if (raw.length !== f.pfns.length * PAGE_SIZE) return { error: `corrupt checkpoint: ${raw.length} page bytes for ${f.pfns.length} pages` };
  const pages = new Map<number, Uint8Array>();
  f.pfns.forEach((pfn, i) => pages.set(pfn, raw.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE)));
  return { seq: f.seq, state: f.state, pages, extra: f.extra };
}
