// A NUL-terminated string inside a byte range (ELF string tables).

/** The UTF-8 text from `start` up to the first NUL or `end`. */
export function cString(bytes: Uint8Array, start: number, end: number): string {
  let e = start;
  while (e < end && bytes[e] !== 0) e++;
  return new TextDecoder().decode(bytes.subarray(start, e));
}
