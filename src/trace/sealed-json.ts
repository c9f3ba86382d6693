// JSON files of a trace that carry their own checksum (meta.json, symbols.json): the object plus a field
// "checksum": "crc32:<8 hex digits>" over the compact JSON of the object without that field. Reading re-derives
// the compact text from the parsed object (JSON.stringify keeps key order), so any change of content is caught.
import { existsSync, readFileSync } from 'node:fs';
import { crc32 } from './crc32.js';

/** The field holding the checksum. */
export const CHECKSUM_FIELD = 'checksum';

function sum(o: Record<string, unknown>): string {
  return `crc32:${crc32(Buffer.from(JSON.stringify(o), 'utf8')).toString(16).padStart(8, '0')}`;
}

/** The text of `o` with its checksum (pretty-printed, newline-terminated). */
export function sealJson(o: object): string {
  const plain = { ...(o as Record<string, unknown>) };
  delete plain[CHECKSUM_FIELD];
  return `${JSON.stringify({ ...plain, [CHECKSUM_FIELD]: sum(plain) }, null, 2)}\n`;
}

/** Parse sealed JSON text and check its checksum; the object without the checksum field, or what is wrong. */
export function unsealJson(text: string): Record<string, unknown> | { error: string } {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch (e) {
    return { error: `not JSON (${(e as Error).message.split('\n')[0]!.trim()})` };
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return { error: 'not a JSON object' };
  const o = { ...(m as Record<string, unknown>) };
  const stored = o[CHECKSUM_FIELD];
  if (typeof stored !== 'string') return { error: 'no checksum' };
  delete o[CHECKSUM_FIELD];
  if (stored !== sum(o)) return { error: 'checksum mismatch' };
  return o;
}

/** Read and check the sealed JSON file at `path`: its object, undefined when the file is absent, or what is wrong (prefixed by the path). */
export function readSealedFile(path: string): { value: Record<string, unknown> } | undefined | { error: string } {
  if (!existsSync(path)) return undefined;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return { error: `${path}: ${(e as NodeJS.ErrnoException).code ?? 'unreadable'}` };
  }
  const o = unsealJson(text);
  return 'error' in o ? { error: `${path}: ${o.error}` } : { value: o };
}
