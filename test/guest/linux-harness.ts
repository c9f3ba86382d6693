// Test doubles for the Linux layer: a sparse guest memory with a hole and a read-only page, an address space
// that records its calls, and an event log; plus a temporary root directory with files, links and an escape.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { HostEvents, MemoryManager, SyscallOutcome, UserMemory } from '../../src/guest/abi.js';
import { LinuxProcess, type LinuxProcessOptions } from '../../src/guest/linux/process.js';
import { syscallNumber } from '../../src/guest/linux/syscall-table.js';

/** A page nobody may touch: any access faults. */
export const HOLE = 0xdead0000n;
/** A page that can be read but not written. */
export const READ_ONLY = 0xbeef0000n;
const PAGE = 4096n;

export class FakeMemory implements UserMemory {
  private readonly pages = new Map<bigint, Uint8Array>();
  private next = 0x100000n;

  private ok(addr: bigint, len: number, write: boolean): boolean {
    const end = addr + BigInt(len);
    if (addr < 0x1000n || end > 0x800000000000n) return false;
    if (addr < HOLE + PAGE && end > HOLE) return false;
    if (write && addr < READ_ONLY + PAGE && end > READ_ONLY) return false;
    return true;
  }

  private page(n: bigint): Uint8Array {
    let p = this.pages.get(n);
    if (p === undefined) this.pages.set(n, (p = new Uint8Array(Number(PAGE))));
    return p;
  }

  read(addr: bigint, len: number): Uint8Array | undefined {
    if (!this.ok(addr, len, false)) return undefined;
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) {
      const a = addr + BigInt(i);
      out[i] = this.page(a / PAGE)[Number(a % PAGE)] as number;
    }
    return out;
  }

  write(addr: bigint, data: Uint8Array): boolean {
    if (!this.ok(addr, data.length, true)) return false;
    for (let i = 0; i < data.length; i++) {
      const a = addr + BigInt(i);
      this.page(a / PAGE)[Number(a % PAGE)] = data[i] as number;
    }
    return true;
  }

  readCString(addr: bigint, max = 4096): Uint8Array | undefined {
    const out: number[] = [];
    for (let i = 0; i < max; i++) {
      const b = this.read(addr + BigInt(i), 1);
      if (b === undefined) return undefined;
      if (b[0] === 0) return new Uint8Array(out);
      out.push(b[0] as number);
    }
    return undefined;
  }

  /** Allocates `len` zero bytes (16-aligned) and returns the address. */
  alloc(len: number): bigint {
    const a = this.next;
    this.next += (BigInt(len) + 31n) & ~15n;
    return a;
  }

  /** Places bytes or a NUL-terminated string in memory. */
  put(data: Uint8Array | string): bigint {
    const bytes = typeof data === 'string' ? new Uint8Array(Buffer.from(data + '\0')) : data;
    const a = this.alloc(bytes.length);
    this.write(a, bytes);
    return a;
  }

  bytes(addr: bigint, len: number): Uint8Array {
    const b = this.read(addr, len);
    if (b === undefined) throw new Error('test read faulted');
    return b;
  }

  view(addr: bigint, len: number): DataView {
    const b = this.bytes(addr, len);
    return new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
}

export class FakeMm implements MemoryManager {
  readonly calls: { op: string; args: unknown[] }[] = [];
  brk(addr: bigint): bigint {
    this.calls.push({ op: 'brk', args: [addr] });
    return addr === 0n ? 0x600000n : addr;
  }
  mmap(addr: bigint, length: bigint, prot: number, flags: number, file: Uint8Array | undefined, offset: bigint): bigint {
    this.calls.push({ op: 'mmap', args: [addr, length, prot, flags, file, offset] });
    return 0x7f0000000000n;
  }
  munmap(addr: bigint, length: bigint): bigint {
    this.calls.push({ op: 'munmap', args: [addr, length] });
    return 0n;
  }
  mprotect(addr: bigint, length: bigint, prot: number): bigint {
    this.calls.push({ op: 'mprotect', args: [addr, length, prot] });
    return 0n;
  }
  discard(addr: bigint, length: bigint): bigint {
    this.calls.push({ op: 'discard', args: [addr, length] });
    return 0n;
  }
  mremap(oldAddr: bigint, oldLength: bigint, newLength: bigint, flags: number, newAddr: bigint): bigint {
    this.calls.push({ op: 'mremap', args: [oldAddr, oldLength, newLength, flags, newAddr] });
    return oldAddr;
  }
}

export class EventLog implements HostEvents {
  readonly inputs: { kind: string; data: Uint8Array }[] = [];
  readonly unsupported: { nr: number; name: string; result: string; detail?: string }[] = [];
  input(kind: string, data: Uint8Array): void {
    this.inputs.push({ kind, data: data.slice() });
  }
  unsupportedSyscall(nr: number, name: string, result: string, detail?: string): void {
    this.unsupported.push(detail === undefined ? { nr, name, result } : { nr, name, result, detail });
  }
  last(kind: string): Uint8Array | undefined {
    return this.inputs.filter((i) => i.kind === kind).pop()?.data;
  }
}

/** A temporary root: /etc/hello.txt, /etc/big.bin, /dir/{a,b,sub/,link->a,up->../../../../etc/hello.txt},
 *  /abs -> /etc/hello.txt, /escape -> (a host file outside the root), /loop1 <-> /loop2, /bin/prog (host file). */
export interface Fixture {
  root: string;
  outside: string; // a host directory outside the root, holding secret.txt
  tmp: string; // scratch directory (stdout files)
  cleanup(): void;
}

export const HELLO = 'hello world\n';

export function makeFixture(): Fixture {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'itrace-linux-'));
  const root = path.join(tmp, 'root'), outside = path.join(tmp, 'outside');
  fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
  fs.mkdirSync(path.join(root, 'dir', 'sub'), { recursive: true });
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'secret.txt'), 'secret\n');
  fs.writeFileSync(path.join(root, 'etc', 'hello.txt'), HELLO);
  fs.writeFileSync(path.join(root, 'etc', 'big.bin'), Buffer.alloc(10000, 7));
  fs.writeFileSync(path.join(root, 'dir', 'a'), 'A');
  fs.writeFileSync(path.join(root, 'dir', 'b'), 'BB');
  fs.symlinkSync('a', path.join(root, 'dir', 'link'));
  fs.symlinkSync('../../../../etc/hello.txt', path.join(root, 'dir', 'up'));
  fs.symlinkSync('/etc/hello.txt', path.join(root, 'abs'));
  fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'escape'));
  fs.symlinkSync('../outside/secret.txt', path.join(root, 'escape-rel'));
  fs.symlinkSync('loop2', path.join(root, 'loop1'));
  fs.symlinkSync('loop1', path.join(root, 'loop2'));
  return { root, outside, tmp, cleanup: () => fs.rmSync(tmp, { recursive: true, force: true }) };
}

export const PROGRAM = new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 9, 9, 9]);

/** A process over the fixture, with stdout and stderr going to files in the scratch directory. */
export class Harness {
  readonly mem = new FakeMemory();
  readonly mm = new FakeMm();
  readonly events = new EventLog();
  readonly p: LinuxProcess;
  readonly stdoutPath: string;
  readonly stderrPath: string;
  private readonly hostFds: number[] = [];

  constructor(fx: Fixture, extra: Partial<LinuxProcessOptions> = {}) {
    this.stdoutPath = path.join(fx.tmp, `stdout-${Math.random().toString(36).slice(2)}`);
    this.stderrPath = this.stdoutPath.replace('stdout', 'stderr');
    const stdin = fs.openSync(path.join(fx.root, 'etc', 'hello.txt'), 'r');
    const stdout = fs.openSync(this.stdoutPath, 'w'), stderr = fs.openSync(this.stderrPath, 'w');
    this.hostFds.push(stdin, stdout, stderr);
    this.p = new LinuxProcess({
      mem: this.mem, mm: this.mm, events: this.events, root: fx.root,
      program: { guestPath: '/usr/bin/prog', bytes: PROGRAM }, stdin, stdout, stderr, ...extra,
    });
  }

  /** Runs a system call by name. */
  sys(name: string, ...args: (bigint | number)[]): SyscallOutcome {
    const nr = syscallNumber(name);
    if (nr === undefined) throw new Error(`no system call ${name}`);
    return this.p.syscall(nr, args.map((x) => BigInt.asUintN(64, BigInt(x))));
  }

  /** Runs a system call that must return; its RAX as a signed number. */
  call(name: string, ...args: (bigint | number)[]): number {
    const r = this.sys(name, ...args);
    if (r.kind !== 'return') throw new Error(`${name} exited with ${r.status}`);
    return Number(r.value);
  }

  open(p: string, flags = 0): number {
    return this.call('openat', -100, this.mem.put(p), flags, 0);
  }

  /** read(fd, n) into a fresh buffer; the bytes, or the negative errno. */
  read(fd: number, n: number): Uint8Array | number {
    const buf = this.mem.alloc(n);
    const r = this.call('read', fd, buf, n);
    return r < 0 ? r : this.mem.bytes(buf, r);
  }

  text(fd: number, n = 4096): string {
    const r = this.read(fd, n);
    if (typeof r === 'number') throw new Error(`read failed: ${r}`);
    return Buffer.from(r).toString();
  }

  stdout(): string {
    return fs.readFileSync(this.stdoutPath, 'latin1');
  }

  close(): void {
    this.p.close();
    for (const fd of this.hostFds) fs.closeSync(fd);
  }
}
