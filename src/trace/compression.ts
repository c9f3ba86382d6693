// Body compression of trace tables: Zstandard (zstd-napi, a native addon built at install time), registered once
// with apache-arrow's codec registry. Measured on 1M regs-like and insns-like rows, each column compressed alone as
// Arrow does: zstd level 1 gives 4.2x (regs) and 4.8x (insns) at 190-330 MB/s, levels 3 and 6 gain under 10% for
// 1.5-4x the time, and LZ4 frames (lz4-napi, lz4js) give 1.9-2.5x at no better speed. Through TraceWriter
// (bench/trace-write.ts): 4.1 and 4.8 bytes/row instead of 17 and 23. If the addon cannot be loaded, traces are
// written uncompressed (the reader reads both) and reading a compressed trace reports that the codec is missing.
import { createRequire } from 'node:module';
import type { CompressionType } from 'apache-arrow';
import type { Arrow } from './arrow.js';

type Zstd = typeof import('zstd-napi');

/** zstd level used for table bodies and checkpoint pages. */
export const ZSTD_LEVEL = 1;

function load(): Zstd | null {
  try {
    return createRequire(import.meta.url)('zstd-napi') as Zstd;
  } catch {
    return null;
  }
}

const zstd = load();

/**
 * Levels for the next buffers Arrow compresses, in order (Arrow's codec interface passes only the bytes): set by
 * withLevels around one record-batch write, whose non-empty column bodies are compressed in column order.
 */
let levelPlan: readonly number[] = [];
let levelNext = 0;

/** Run `write` (one record-batch write) with zstd level `levels[k]` for its k-th compressed buffer. */
export function withLevels<T>(levels: readonly number[], write: () => T): T {
  levelPlan = levels; levelNext = 0;
  try {
    return write();
  } finally {
    levelPlan = []; levelNext = 0;
  }
}

// Arrow's CompressionType.ZSTD (its IPC format's value; checked when the codec is registered)
const ZSTD_TYPE = 1 as CompressionType.ZSTD;

/** Register the zstd codec with Arrow's codec registry (called by arrow() as Arrow loads). */
export function registerZstd(lib: Arrow): void {
  if (lib.CompressionType.ZSTD !== ZSTD_TYPE) throw new Error(`apache-arrow: CompressionType.ZSTD is ${lib.CompressionType.ZSTD}, expected ${ZSTD_TYPE}`);
  if (zstd === null) return;
  lib.compressionRegistry.set(lib.CompressionType.ZSTD, {
    encode: (data) => zstd.compress(data, { compressionLevel: levelPlan[levelNext++] ?? ZSTD_LEVEL }),
    decode: (data) => zstd.decompress(data),
  });
}

/** The compression the writer uses, or null when no codec could be loaded. */
export const tableCompression: CompressionType | null = zstd !== null ? ZSTD_TYPE : null;

/** Compress bytes with zstd, or null when the codec is not available. */
export function zstdCompress(data: Uint8Array): Uint8Array | null {
  return zstd === null ? null : zstd.compress(data, { compressionLevel: ZSTD_LEVEL });
}

/** Decompress zstd bytes, or an error when the codec is not available. */
export function zstdDecompress(data: Uint8Array): Uint8Array | { error: string } {
  if (zstd === null) return { error: 'zstd-napi is not installed (run npm ci): cannot read zstd-compressed data' };
  return zstd.decompress(data);
}
