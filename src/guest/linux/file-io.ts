// Reading and writing open file descriptions: the one place that touches host fds for I/O.
import * as fs from 'node:fs';
import { MAX_RW_COUNT } from './args.js';
import { E, hostErrno } from './errno.js';
import { O, type OpenFile, type StreamFile, readable, writable } from './open-file.js';
import type { LinuxProcess } from './process.js';
import { SIGPIPE, killedBy } from './signal-exit.js';
import { ERESTART } from './signal-restart.js';
import { sleepUntilSignal } from './signal-timers.js';

/** The most bytes one read from a stream or device returns (a pipe's worth times 16). */
const STREAM_CHUNK = 1 << 20;

/** Whether a host fd is a regular file (and so allows pread/pwrite). */
function hostSeekable(hostFd: number): boolean {
  try {
    return fs.fstatSync(hostFd).isFile();
  } catch {
    return false;
  }
}

/** Whether a host stream (stdin, stdout, stderr) is a regular file. */
export function isRegularStream(f: StreamFile): boolean {
  return hostSeekable(f.hostFd);
}

/** Size in bytes of a regular file description. */
export function fileSize(f: OpenFile): bigint {
  if (f.kind !== 'file') return 0n;
  if (f.bytes !== undefined) return BigInt(f.bytes.length);
  return f.hostFd !== undefined ? fs.fstatSync(f.hostFd, { bigint: true }).size : 0n;
}

/** Sleeps a millisecond (waiting for a non-blocking host fd to become ready). */
function pause(): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
}

/**
 * Reads from a host fd; an errno on failure. A host fd may be non-blocking (Node makes some so) while the guest's
 * descriptor is blocking: then EAGAIN is waited out here, as the guest's kernel would block.
 */
function hostRead(hostFd: number, n: number, position: bigint | null, blocking = false): Uint8Array | number {
  const buf = new Uint8Array(n);
  for (;;) {
    try {
      const got = fs.readSync(hostFd, buf, 0, n, position);
      return buf.subarray(0, got);
    } catch (x) {
      const e = hostErrno(x);
      if (e === undefined) throw x;
      if (e !== E.EAGAIN || !blocking) return e;
      pause();
    }
  }
}

/**
 * Bytes read but not yet delivered: `commit(n)` once the guest has the first n (it advances the file position by
 * n, or puts the rest back into a pipe).
 */
export interface ReadResult {
  data: Uint8Array;
  commit(delivered: number): void;
}

const nothing = (): void => {};

function result(data: Uint8Array, commit: (delivered: number) => void = nothing): ReadResult {
  return { data, commit };
}

/**
 * Reads up to `count` bytes at `position` (pread) or at the file position (read); an errno on failure. Bytes read
 * from a host stream cannot be put back if the guest's buffer then faults.
 */
export function readFrom(p: LinuxProcess, f: OpenFile, count: number, position: bigint | undefined): ReadResult | number {
  if (f.kind === 'dir') return E.EISDIR;
  if (!readable(f)) return E.EBADF;
  const n = Math.min(count, MAX_RW_COUNT);
  switch (f.kind) {
    case 'stream': {
      if (position !== undefined && !hostSeekable(f.hostFd)) return E.ESPIPE;
      const r = hostRead(f.hostFd, Math.min(n, STREAM_CHUNK), position ?? null, (f.flags & O.NONBLOCK) === 0);
      return typeof r === 'number' ? r : result(r);
    }
    case 'file': {
      const at = position ?? f.offset;
      const size = fileSize(f);
      const len = at >= size ? 0 : Number(BigInt(n) < size - at ? BigInt(n) : size - at);
      let data: Uint8Array | number;
      if (f.bytes !== undefined) data = f.bytes.slice(Number(at), Number(at) + len);
      else if (f.hostFd !== undefined) data = hostRead(f.hostFd, len, at);
      else data = new Uint8Array(0);
      if (typeof data === 'number') return data;
      return result(data, position === undefined ? (k) => { f.offset = at + BigInt(k); } : nothing);
    }
    case 'device': {
      const len = Math.min(n, STREAM_CHUNK);
      if (f.device === 'null') return result(new Uint8Array(0));
      if (f.device === 'zero' || f.device === 'full') return result(new Uint8Array(len));
      return result(p.random(len));
    }
    case 'pipe': {
      if (position !== undefined) return E.ESPIPE;
      if (f.pipe.size === 0) {
        if (f.pipe.writers === 0 || n === 0) return result(new Uint8Array(0));
        // a blocking read waits for a signal (a timer; the writer is this very process): its handler may write
        // to the pipe, and the read is restarted (SA_RESTART) or fails with EINTR; with no signal to come, EAGAIN
        if ((f.flags & O.NONBLOCK) !== 0 || sleepUntilSignal(p) !== 'signal') return E.EAGAIN;
        return Number(ERESTART.SYS);
      }
      const pipe = f.pipe, data = pipe.take(n);
      return result(data, (k) => pipe.unshift(data.subarray(k)));
    }
    case 'anon': {
      if (position !== undefined) return E.ESPIPE;
      const r = f.anon.read(f, n);
      return typeof r === 'number' ? r : result(r);
    }
    case 'path': return E.EBADF;
  }
}

/** Writes all of `data` to a host fd, waiting out EAGAIN on a non-blocking host fd; an errno on failure. */
function hostWriteAll(hostFd: number, data: Uint8Array, position: bigint | undefined): number {
  let off = 0;
  while (off < data.length) {
    try {
      const pos = position === undefined ? null : Number(position) + off;
      off += fs.writeSync(hostFd, data, off, data.length - off, pos);
    } catch (x) {
      const e = hostErrno(x);
      if (e === undefined) throw x;
      if (e !== E.EAGAIN) return off > 0 ? off : -e;
      pause();
    }
  }
  return off;
}

/** What a write returns: a count, an errno, or the end of the process (SIGPIPE with the default action). */
export type WriteResult = number | { errno: number } | { kind: 'exit'; status: number };

function brokenPipe(p: LinuxProcess): WriteResult {
  return p.signals.send(SIGPIPE) === 'terminate' ? killedBy(SIGPIPE) : { errno: E.EPIPE };
}

function streamWrite(p: LinuxProcess, f: StreamFile, data: Uint8Array, position: bigint | undefined): WriteResult {
  if (position !== undefined && !hostSeekable(f.hostFd)) return { errno: E.ESPIPE };
  const r = hostWriteAll(f.hostFd, data, position);
  if (r >= 0) return r;
  return -r === E.EPIPE ? brokenPipe(p) : { errno: -r };
}

/** Writes `data` at `position` (pwrite) or at the end/position of the stream (write). */
export function writeTo(p: LinuxProcess, f: OpenFile, data: Uint8Array, position: bigint | undefined, noSignal = false): WriteResult {
  if (!writable(f)) return { errno: E.EBADF };
  switch (f.kind) {
    case 'stream': return streamWrite(p, f, data, position);
    case 'device': return f.device === 'full' && data.length > 0 ? { errno: E.ENOSPC } : data.length;
    case 'pipe': {
      if (position !== undefined) return { errno: E.ESPIPE };
      if (f.pipe.readers === 0) return brokenPipe(p);
      if (data.length === 0) return 0;
      const n = f.pipe.push(data);
      return n > 0 ? n : { errno: E.EAGAIN };
    }
    case 'file': {
      if (f.hostFd === undefined) return { errno: E.EBADF }; // a virtual file is never opened for writing
      if (data.length === 0) return 0;
      const at = position ?? ((f.flags & O.APPEND) !== 0 ? fileSize(f) : f.offset);
      const r = hostWriteAll(f.hostFd, data, at);
      if (r < 0) return { errno: -r };
      if (position === undefined) f.offset = at + BigInt(r);
      return r;
    }
    case 'anon': {
      if (position !== undefined) return { errno: E.ESPIPE };
      const r = f.anon.write(f, data);
      return r >= 0 ? r : r === -E.EPIPE && !noSignal ? brokenPipe(p) : { errno: -r };
    }
    case 'dir': case 'path': return { errno: E.EBADF }; // never opened for writing
  }
}
