// getdents64, getcwd, chdir, fchdir.
import { type Args, int, u64 } from './args.js';
import { AT_FDCWD, fileNode, foundNode, lookupAt } from './at-path.js';
import { bstrToBytes } from './byte-string.js';
import { E, err } from './errno.js';
import { S_IFDIR, direntType } from './file-stat.js';
import { type DirEntry, isDir } from './fs-view.js';
import type { HandlerGroup } from './handler.js';
import { InputKind } from './input-kind.js';
import type { DirFile } from './open-file.js';
import type { LinuxProcess } from './process.js';
import { StructWriter } from './struct-writer.js';
import { writeOut } from './user-memory.js';

/** The most bytes one getdents64 returns (a larger buffer just gets this much). */
const DIRENTS_CHUNK = 1 << 20;

/** "." and ".." then the directory's entries. */
function allEntries(p: LinuxProcess, f: DirFile): DirEntry[] | number {
  const list = p.fs.list(f.node);
  if (typeof list === 'number') return list;
  const parent = foundNode(p.fs.lookup(f.node.path, '..', true));
  const parentIno = typeof parent === 'number' ? f.node.stat.ino : parent.stat.ino;
  return [{ name: '.', ino: f.node.stat.ino, mode: S_IFDIR }, { name: '..', ino: parentIno, mode: S_IFDIR }, ...list];
}

/** Size of a linux_dirent64 record: 19 header bytes, the name and its NUL, rounded up to 8. */
function recordLength(nameLength: number): number {
  return (19 + nameLength + 1 + 7) & ~7;
}

function getdents64(p: LinuxProcess, a: Args): bigint {
  const e = p.fds.get(int(a, 0));
  if (e === undefined || e.file.kind === 'path') return err(E.EBADF);
  const f = e.file;
  if (f.kind !== 'dir') return err(E.ENOTDIR);
  if (f.entries === undefined) {
    const all = allEntries(p, f);
    if (typeof all === 'number') return err(all);
    f.entries = all;
  }
  const room = Math.min(int(a, 2) >>> 0, DIRENTS_CHUNK);
  const records: Uint8Array[] = [];
  let used = 0, pos = Number(f.offset < BigInt(f.entries.length) ? f.offset : BigInt(f.entries.length));
  for (; pos < f.entries.length; pos++) {
    const ent = f.entries[pos] as DirEntry;
    const name = bstrToBytes(ent.name);
    const len = recordLength(name.length);
    if (used + len > room) break;
    // d_ino, d_off (position of the next entry), d_reclen, d_type, d_name
    records.push(new StructWriter(len).u64(0, ent.ino).u64(8, pos + 1).u16(16, len).u8(18, direntType(ent.mode)).raw(19, name).bytes);
    used += len;
  }
  if (records.length === 0 && pos < f.entries.length) return err(E.EINVAL); // buffer too small for one record
  const out = new Uint8Array(Buffer.concat(records));
  if (!writeOut(p.mem, u64(a, 1), out)) return err(E.EFAULT);
  f.offset = BigInt(pos);
  p.input(InputKind.DIRENTS, out);
  return BigInt(out.length);
}

function getcwd(p: LinuxProcess, a: Args): bigint {
  const bytes = bstrToBytes(p.cwd + '\0');
  if (u64(a, 1) < BigInt(bytes.length)) return err(E.ERANGE);
  return writeOut(p.mem, u64(a, 0), bytes) ? BigInt(bytes.length) : err(E.EFAULT);
}

export const dirSyscalls: HandlerGroup = {
  getdents64,
  getcwd,
  chdir: (p, a) => {
    const n = foundNode(lookupAt(p, AT_FDCWD, u64(a, 0), true));
    if (typeof n === 'number') return err(n);
    if (!isDir(n)) return err(E.ENOTDIR);
    p.cwd = n.path;
    return 0n;
  },
  fchdir: (p, a) => {
    const e = p.fds.get(int(a, 0));
    if (e === undefined) return err(E.EBADF);
    const n = fileNode(e.file);
    if (n === undefined || !isDir(n)) return err(E.ENOTDIR);
    p.cwd = n.path;
    return 0n;
  },
};
