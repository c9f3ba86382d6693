// A TraceSink whose Arrow encoding, zstd compression and file writes run on a worker thread, so the recording
// thread only posts each full batch: its column buffers are transferred (not copied) and the buffer gets a set
// the worker has finished with (returned over a MessagePort and taken back synchronously), or a fresh one. The recording thread never returns to the event loop while
// recording, so the worker reports back through shared memory (counters, a status word, an error text), and
// the recording thread blocks with Atomics.wait when the queue is full and when closing. Batches still queued
// when the process is killed are lost; every batch the worker finished is on disk, as with TraceWriter.
import { MessageChannel, MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { TraceMeta } from './schema.js';
import { ColumnStore, TableBuffer } from './table-buffer.js';
import { prepareTraceDir } from './trace-writer.js';
import type { TraceSink } from './trace-sink.js';

/** Slots of the shared control words. */
export const enum Ctl {
  PENDING = 0, // messages posted and not yet handled by the worker
  STATE = 1, // 0 starting, 1 running, 2 closed, 3 failed
  ERROR_LEN = 2, // bytes of the error text
}

/** How long the writer thread may leave the queue unchanged before the recording gives up on it. */
const STALL_MS = 60_000;

/** Batches the recording thread may have in flight before it waits. */
const MAX_PENDING = 8;

/** The worker script next to this module (compiled JS only). */
const WORKER_URL = new URL('./background-writer-worker.js', import.meta.url);

/** True when the worker script can run (the compiled build; not TypeScript sources under a test runner). */
export function backgroundWriterAvailable(): boolean {
  return import.meta.url.endsWith('.js');
}

/** A batch's columns coming back from the worker for reuse. */
interface Returned { table: string; capacity: number; cols: ColumnStore[] }

/** The trace writer on a worker thread. */
export class BackgroundTraceWriter implements TraceSink {
  private readonly worker: Worker;
  private readonly ctl: Int32Array;
  private readonly bytes: BigInt64Array;
  private readonly errorText: Uint8Array;
  /** Where the worker returns column buffers it has written. */
  private readonly returns: MessagePort;
  /** Returned column sets by table and capacity. */
  private readonly free = new Map<string, ColumnStore[][]>();
  private closed = false;

  private constructor(worker: Worker, ctl: Int32Array, bytes: BigInt64Array, errorText: Uint8Array, returns: MessagePort) {
    this.worker = worker; this.ctl = ctl; this.bytes = bytes; this.errorText = errorText; this.returns = returns;
  }

  /**
   * Prepare the directory here (so a directory that cannot be used is a one-line error at once), then start the
   * worker, which writes the trace there; recording need not wait for it to start.
   */
  static create(dir: string, meta: TraceMeta): BackgroundTraceWriter | { error: string } {
    const prepared = prepareTraceDir(dir);
    if (prepared !== null) return prepared;
    const ctlBuf = new SharedArrayBuffer(16), bytesBuf = new SharedArrayBuffer(8), errBuf = new SharedArrayBuffer(4096);
    const ctl = new Int32Array(ctlBuf);
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(WORKER_URL, { workerData: { dir, meta, ctl: ctlBuf, bytes: bytesBuf, error: errBuf, returns: port2 }, transferList: [port2] });
    worker.unref();
    port1.unref();
    return new BackgroundTraceWriter(worker, ctl, new BigInt64Array(bytesBuf), new Uint8Array(errBuf), port1);
  }

  private errorMessage(): string {
    return Buffer.from(this.errorText.slice(0, Atomics.load(this.ctl, Ctl.ERROR_LEN))).toString('utf8');
  }

  private check(): void {
    if (Atomics.load(this.ctl, Ctl.STATE) === 3) throw new Error(`trace writer: ${this.errorMessage()}`);
  }

  /** Wait until at most `max` messages are in flight. */
  /** Wait until at most `max` messages are in flight; an error if the writer thread stops making progress. */
  private drain(max: number): void {
    let last = -1, since = Date.now();
    for (;;) {
      this.check();
      const p = Atomics.load(this.ctl, Ctl.PENDING);
      if (p <= max) return;
      if (p !== last) { last = p; since = Date.now(); } else if (Date.now() - since > STALL_MS) {
        throw new Error(`trace writer: the writer thread handled nothing for ${STALL_MS / 1000} s (it may have stopped)`);
      }
      Atomics.wait(this.ctl, Ctl.PENDING, p, 1000);
    }
  }

  private post(msg: unknown, transfer: ArrayBuffer[]): void {
    Atomics.add(this.ctl, Ctl.PENDING, 1);
    this.worker.postMessage(msg, transfer);
  }

  writeBatch(buf: TableBuffer): void {
    if (this.closed) throw new Error('writeBatch after close');
    if (buf.length > 0) {
      this.drain(MAX_PENDING);
      const typed = buf.cols.every((c) => !Array.isArray(c));
      const cols = typed ? buf.cols.slice() : buf.copyRows();
      const transfer = cols.flatMap((c) => (Array.isArray(c) ? [] : [c.buffer as ArrayBuffer]));
      this.post({ kind: 'batch', table: buf.spec.name, length: buf.length, capacity: buf.capacity, cols, recycle: typed, deltaCoded: buf.deltaCoded }, transfer);
      if (typed) buf.cols.splice(0, buf.cols.length, ...this.freshColumns(buf));
    }
    buf.clear();
  }

  /** Column stores for a buffer whose own went to the worker: a set the worker returned, or new ones. */
  private freshColumns(buf: TableBuffer): ColumnStore[] {
    for (let m = receiveMessageOnPort(this.returns); m !== undefined; m = receiveMessageOnPort(this.returns)) {
      const r = m.message as Returned;
      const key = `${r.table}:${r.capacity}`;
      const list = this.free.get(key) ?? [];
      list.push(r.cols);
      this.free.set(key, list);
    }
    return this.free.get(`${buf.spec.name}:${buf.capacity}`)?.pop() ?? new TableBuffer(buf.spec.name, buf.capacity).cols;
  }

  sync(through: number): void {
    if (this.closed) throw new Error('sync after close');
    this.drain(MAX_PENDING);
    this.post({ kind: 'sync', through }, []);
  }

  writeCheckpoint(seq: number, state: Uint8Array, pages: Map<number, Uint8Array>, extra: Record<string, unknown>): void {
    this.drain(MAX_PENDING);
    const list = [...pages];
    this.post({ kind: 'checkpoint', seq, state, pages: list, extra }, [state.buffer as ArrayBuffer, ...list.map(([, b]) => b.buffer as ArrayBuffer)]);
  }

  close(update: Partial<TraceMeta>): void {
    if (this.closed) return;
    this.closed = true;
    this.post({ kind: 'close', update }, []);
    this.drain(0);
    while (Atomics.load(this.ctl, Ctl.STATE) === 1) Atomics.wait(this.ctl, Ctl.STATE, 1, 1000);
    this.check();
    void this.worker.terminate();
  }

  bytesWritten(): number {
    return Number(Atomics.load(this.bytes, 0));
  }
}
