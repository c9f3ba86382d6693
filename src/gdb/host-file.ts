// gdb's host I/O (vFile packets) for the one file a session serves: the recorded executable, which gdb opens
// through its default `target:` sysroot. Any other path is refused (a server on a socket does not hand out the
// host's files). Errors use the File-I/O errno values (ENOENT 2, EBADF 9).
import { readFileSync, statSync } from 'node:fs';

const ENOENT = 2, EBADF = 9;

/** The open-file state of one session. */
export class HostFiles {
  /** The only path served. */
  readonly path: string;
  /** Its bytes once opened. */
  private bytes: Uint8Array | undefined;
  /** Open descriptors (all of the one file). */
  private readonly fds = new Set<number>();
  private nextFd = 3;

  constructor(path: string) {
    this.path = path;
  }

  /** Answer one `vFile:OP:ARGS` packet (without the `vFile:` prefix). */
  handle(op: string, args: string[]): string | Uint8Array {
    switch (op) {
      case 'setfs': return 'F0';
      case 'open': {
        const path = Buffer.from(args[0] ?? '', 'hex').toString('utf8');
        if (path !== this.path) return `F-1,${ENOENT.toString(16)}`;
        try {
          this.bytes ??= readFileSync(path);
        } catch {
          return `F-1,${ENOENT.toString(16)}`;
        }
        const fd = this.nextFd++;
        this.fds.add(fd);
        return `F${fd.toString(16)}`;
      }
      case 'close': return this.fds.delete(parseInt(args[0] ?? '', 16)) ? 'F0' : `F-1,${EBADF.toString(16)}`;
      case 'pread': {
        const fd = parseInt(args[0] ?? '', 16), count = parseInt(args[1] ?? '', 16), offset = parseInt(args[2] ?? '', 16);
        if (!this.fds.has(fd) || this.bytes === undefined) return `F-1,${EBADF.toString(16)}`;
        const part = this.bytes.subarray(offset, offset + Math.min(count, 0x1f00));
        const head = Buffer.from(`F${part.length.toString(16)};`, 'latin1');
        return Buffer.concat([head, part]);
      }
      case 'fstat': {
        const fd = parseInt(args[0] ?? '', 16);
        if (!this.fds.has(fd)) return `F-1,${EBADF.toString(16)}`;
        return Buffer.concat([Buffer.from(`F40;`, 'latin1'), fileIoStat(this.path)]);
      }
      default: return '';
    }
  }
}

/** gdb's File-I/O `struct stat` (64 bytes, big-endian) of a host file. */
function fileIoStat(path: string): Buffer {
  const st = statSync(path), b = Buffer.alloc(64);
  b.writeUInt32BE(st.dev >>> 0, 0); b.writeUInt32BE(st.ino >>> 0, 4); b.writeUInt32BE(st.mode, 8); b.writeUInt32BE(st.nlink, 12);
  b.writeUInt32BE(st.uid, 16); b.writeUInt32BE(st.gid, 20); b.writeUInt32BE(0, 24);
  b.writeBigUInt64BE(BigInt(st.size), 28); b.writeBigUInt64BE(BigInt(st.blksize), 36); b.writeBigUInt64BE(BigInt(st.blocks), 44);
  b.writeUInt32BE(Math.floor(st.atimeMs / 1000) >>> 0, 52); b.writeUInt32BE(Math.floor(st.mtimeMs / 1000) >>> 0, 56); b.writeUInt32BE(Math.floor(st.ctimeMs / 1000) >>> 0, 60);
  return b;
}
