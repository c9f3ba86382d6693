// Checks of the paths a command line names, done before any work starts, each a one-line message: an image must be
// a regular file (not /dev/zero, a FIFO or a directory, which would be read forever or fail late), an output
// directory must be creatable (Node's recursive mkdir loops forever under /proc), and an output file's directory
// must exist and be writable (a --summary-json that names a directory would otherwise fail after the recording).
import { accessSync, constants, mkdirSync, readdirSync, rmdirSync, statSync, Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** What a non-regular file is: `is a directory`, `is a FIFO, not a regular file`, ... */
function kind(st: Stats): string {
  if (st.isDirectory()) return 'is a directory';
  const what = st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() ? 'a character device' : st.isBlockDevice() ? 'a block device' : st.isSocket() ? 'a socket' : 'special';
  return `is ${what}, not a regular file`;
}

const code = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? 'error';

const reason = (e: unknown): string => {
  switch (code(e)) {
    case 'ENOENT': return 'no such file or directory';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'ENOTDIR': return 'a part of the path is not a directory';
    case 'EROFS': return 'read-only file system';
    case 'ENOSPC': return 'no space left on the device';
    case 'EEXIST': return 'already exists';
    default: return code(e);
  }
};

/** Why `path` cannot be read as a program image (or other input file), or undefined. `what` prefixes the message. */
export function checkInputFile(path: string, what = ''): string | undefined {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    return `${what}${path}: ${code(e) === 'ENOENT' ? 'no such file' : reason(e)}`;
  }
  if (!st.isFile()) return `${what}${path}: ${kind(st)}`;
  try {
    accessSync(path, constants.R_OK);
  } catch (e) {
    return `${what}${path}: ${reason(e)}`;
  }
  return undefined;
}

/**
 * Create the directory `dir` (and missing parents) one level at a time, so that a path the kernel refuses fails at
 * once. Returns the directories it created (outermost first), or why it cannot. An existing directory is fine.
 */
export function makeOutputDir(dir: string): { created: string[] } | { error: string } {
  const abs = resolve(dir);
  const missing: string[] = [];
  let p = abs;
  for (;;) {
    try {
      const st = statSync(p);
      if (!st.isDirectory()) return { error: `${p === abs ? dir : p} exists and is not a directory` };
      break;
    } catch (e) {
      if (code(e) !== 'ENOENT') return { error: `cannot create ${dir}: ${reason(e)}` };
      missing.unshift(p);
      const up = dirname(p);
      if (up === p) return { error: `cannot create ${dir}: no such file or directory` };
      p = up;
    }
  }
  const created: string[] = [];
  for (const m of missing) {
    try {
      mkdirSync(m);
      created.push(m);
    } catch (e) {
      removeCreated(created);
      return { error: `cannot create ${dir}: ${reason(e)}` };
    }
  }
  return { created };
}

/** Remove directories made by makeOutputDir that are still empty (innermost first). */
export function removeCreated(created: readonly string[]): void {
  for (const d of [...created].reverse()) {
    try {
      if (readdirSync(d).length === 0) rmdirSync(d);
    } catch {
      // gone already, or not empty: leave it
    }
  }
}

/** Why `path` cannot be written as an output file (its directory missing, it a directory, ...), or undefined. */
export function checkOutputFile(path: string, what = ''): string | undefined {
  try {
    const st = statSync(path);
    if (!st.isFile()) return `${what}${path}: ${kind(st)}`;
    accessSync(path, constants.W_OK);
    return undefined;
  } catch (e) {
    if (code(e) !== 'ENOENT') return `${what}${path}: ${reason(e)}`;
  }
  const dir = dirname(resolve(path));
  try {
    if (!statSync(dir).isDirectory()) return `${what}${path}: ${dirname(path)} is not a directory`;
    accessSync(dir, constants.W_OK);
  } catch (e) {
    return `${what}${path}: ${code(e) === 'ENOENT' ? `no such directory ${dirname(path)}` : reason(e)}`;
  }
  return undefined;
}
