// Paths as byte strings: a guest path is bytes, not text, so it is kept as a latin1 string (one char per byte).
// Node's fs takes and returns such strings through Buffer, so a name that is not UTF-8 survives unchanged.

/** A string whose char codes are bytes 0..255 (a path or a file name). */
export type ByteString = string;

export function bytesToBStr(b: Uint8Array): ByteString {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

export function bstrToBytes(s: ByteString): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'latin1'));
}

/** The byte string of a JavaScript (UTF-16) string, encoded as UTF-8. */
export function utf8ToBStr(s: string): ByteString {
  return Buffer.from(s, 'utf8').toString('latin1');
}

/** A host path for Node's fs (a Buffer, so every byte is passed through). */
export function hostPath(s: ByteString): Buffer {
  return Buffer.from(s, 'latin1');
}
