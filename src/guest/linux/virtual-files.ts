// The files the guest sees that do not come from the host root: the program itself at its guest path (and the
// directories above it), /proc/self/exe, and the character devices /dev/null, zero, full, random, urandom.
import type { ByteString } from './byte-string.js';
import { CPU_LIST, type MapsEntry, formatCmdline, formatCpuinfo, formatMaps } from './proc-files.js';
import { type FileStat, S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG, makedev } from './file-stat.js';

/** Which device a virtual character device is. */
export type DeviceKind = 'null' | 'zero' | 'full' | 'random' | 'urandom' | 'tty'; // tty: ENXIO (no controlling terminal)

/** A node of the virtual tree. */
export type VNode =
  | { type: 'dir'; ino: bigint; children: Map<ByteString, VNode>; opaque?: boolean } // opaque: the host's directory of that name is hidden
  | { type: 'file'; ino: bigint; bytes: Uint8Array }
  | { type: 'symlink'; ino: bigint; target: ByteString }
  | { type: 'device'; ino: bigint; device: DeviceKind; rdev: bigint };

/** st_dev of virtual nodes (an anonymous device, minor 42). */
const VIRTUAL_DEV = makedev(0, 42);

const DEVICES: readonly [DeviceKind, number, number][] = [['null', 1, 3], ['zero', 1, 5], ['full', 1, 7], ['random', 1, 8], ['urandom', 1, 9], ['tty', 5, 0]];

/** What the generated /proc files show (without it, they are absent). */
export interface ProcSource {
  readonly argv: readonly string[]; // /proc/self/cmdline
  maps(): readonly MapsEntry[]; // /proc/self/maps, read when the file is opened
  auxv?(): Uint8Array; // /proc/self/auxv: the auxiliary vector as 64-bit pairs, AT_NULL last
  status?(): string; // /proc/self/status, made when opened
  fds?(): Map<ByteString, ByteString>; // /proc/self/fd: descriptor number -> link target, listed when looked up
}

/** Builds the virtual tree for a program at `programPath` (an absolute guest path). */
export function buildVirtualTree(programPath: ByteString, program: Uint8Array, source?: ProcSource): VNode {
  let nextIno = 0x1000n;
  const dir = (): VNode => ({ type: 'dir', ino: nextIno++, children: new Map() });
  const root = dir();
  const mkdirs = (parts: readonly ByteString[]): Map<ByteString, VNode> => {
    let cur = root;
    for (const p of parts) {
      let next = cur.type === 'dir' ? cur.children.get(p) : undefined;
      if (next === undefined || next.type !== 'dir') {
        next = dir();
        if (cur.type === 'dir') cur.children.set(p, next);
      }
      cur = next;
    }
    return cur.type === 'dir' ? cur.children : new Map();
  };
  // the host's /proc, /dev and /sys describe the host, not the guest: the virtual ones replace them
  for (const top of ['proc', 'dev', 'sys']) {
    mkdirs([top]);
    const d = root.type === 'dir' ? root.children.get(top) : undefined;
    if (d?.type === 'dir') d.opaque = true;
  }
  const proc = mkdirs(['proc', 'self']);
  proc.set('exe', { type: 'symlink', ino: nextIno++, target: programPath });
  if (source !== undefined) {
    const text = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));
    // generated when opened (the open file keeps the bytes it got, as a read of Linux's seq_file sees one snapshot)
    proc.set('maps', { type: 'file', ino: nextIno++, get bytes() { return text(formatMaps(source.maps())); } });
    proc.set('cmdline', { type: 'file', ino: nextIno++, bytes: formatCmdline(source.argv) });
    const { auxv, status, fds } = source;
    if (auxv !== undefined) proc.set('auxv', { type: 'file', ino: nextIno++, get bytes() { return auxv(); } });
    if (status !== undefined) proc.set('status', { type: 'file', ino: nextIno++, get bytes() { return text(status()); } });
    if (fds !== undefined) {
      const base = nextIno;
      nextIno += 0x10000n;
      const links = (): Map<ByteString, VNode> =>
        new Map([...fds()].map(([n, target]) => [n, { type: 'symlink', ino: base + BigInt(n), target } as VNode]));
      proc.set('fd', { type: 'dir', ino: nextIno++, get children() { return links(); } });
    }
    mkdirs(['proc']).set('cpuinfo', { type: 'file', ino: nextIno++, bytes: text(formatCpuinfo()) });
    const cpu = mkdirs(['sys', 'devices', 'system', 'cpu']);
    cpu.set('online', { type: 'file', ino: nextIno++, bytes: text(CPU_LIST) });
    cpu.set('possible', { type: 'file', ino: nextIno++, bytes: text(CPU_LIST) });
  }
  const dev = mkdirs(['dev']);
  for (const [device, majorNr, minorNr] of DEVICES) dev.set(device, { type: 'device', ino: nextIno++, device, rdev: makedev(majorNr, minorNr) });
  const parts = programPath.split('/').filter((s) => s !== '');
  const name = parts.pop();
  if (name !== undefined) mkdirs(parts).set(name, { type: 'file', ino: nextIno++, bytes: program });
  return root;
}

/** The metadata of a virtual node: fixed, so that it is the same on every host. */
export function virtualStat(n: VNode): FileStat {
  const base = {
    dev: VIRTUAL_DEV, ino: n.ino, nlink: 1n, uid: 0, gid: 0, rdev: 0n, size: 0n, blksize: 4096n, blocks: 0n,
    atimeNs: 0n, mtimeNs: 0n, ctimeNs: 0n, birthtimeNs: undefined,
  };
  switch (n.type) {
    case 'dir': return { ...base, mode: S_IFDIR | 0o755, nlink: 2n, size: 4096n, blocks: 8n };
    case 'file': {
      const size = BigInt(n.bytes.length);
      return { ...base, mode: S_IFREG | 0o755, size, blocks: ((size + 4095n) / 4096n) * 8n };
    }
    case 'symlink': return { ...base, mode: S_IFLNK | 0o777, size: BigInt(Buffer.byteLength(n.target, 'latin1')) };
    case 'device': return { ...base, mode: S_IFCHR | 0o666, rdev: n.rdev };
  }
}
