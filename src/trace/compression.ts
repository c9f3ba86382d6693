// Body compression of trace tables: Zstandard (zstd-napi, a native addon built at install time), registered once
// with apache-arrow's codec registry. Measured on 1M-row regs-like and insns-like batches (bench/trace-codecs.ts):
// zstd level 1 gives 4-5x at a few hundred MB/s, twice the ratio of LZ4 frames, at equal or better speed, and
// higher levels gain little. If the addon cannot be loaded, traces are written uncompressed (the reader reads both)
// and reading a compressed trace reports that the codec is missing.
import { createRequire } from 'node:module';
import { CompressionType, compressionRegistry } from 'apache-arrow';

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

if (zstd !== null) {
  compressionRegistry.set(CompressionType.ZSTD, {
    encode: (data) => zstd.compress(data, { compressionLevel: ZSTD_LEVEL }),
    decode: (data) => zstd.decompress(data),
  });
}

/** The compression the writer uses, or null when no codec could be loaded. */
export const tableCompression: CompressionType | null = zstd !== null ? CompressionType.ZSTD : null;

/** Compress bytes with zstd, or null when the codec is not available. */
export function zstdCompress(data: Uint8Array): Uint8Array | null {
  return zstd === null ? null : zstd.compress(data, { compressionLevel: ZSTD_LEVEL });
}

/** Decompress zstd bytes, or an error when the codec is not available. */
export function zstdDecompress(data: Uint8Array): Uint8Array | { error: string } {
  if (zstd === null) return { error: 'zstd-napi is not installed (run npm ci): cannot read zstd-compressed data' };
  return zstd.decompress(data);
}
