// The worker side of BackgroundTraceWriter (loaded by background-writer-worker.ts): a TraceWriter fed by
// messages; progress, state and errors are reported through the shared memory the recording thread passed in
// workerData.
import { MessagePort, parentPort, workerData } from 'node:worker_threads';
import { Ctl } from './background-writer.js';
import type { TableName, TraceMeta } from './schema.js';
import { ColumnStore, TableBuffer } from './table-buffer.js';
import { TraceWriter } from './trace-writer.js';
import { reportWriterFailure } from './writer-failure.js';

interface Init { dir: string; meta: TraceMeta; ctl: SharedArrayBuffer; bytes: SharedArrayBuffer; error: SharedArrayBuffer; returns: MessagePort }
type Msg =
  | { kind: 'batch'; table: TableName; length: number; capacity: number; cols: ColumnStore[]; recycle: boolean; deltaCoded: boolean }
  | { kind: 'checkpoint'; seq: number; state: Uint8Array; pages: [number, Uint8Array][]; extra: Record<string, unknown> }
  | { kind: 'sync'; through: number }
  | { kind: 'close'; update: Partial<TraceMeta> };

const init = workerData as Init;
const ctl = new Int32Array(init.ctl);
const bytes = new BigInt64Array(init.bytes);
const errorText = new Uint8Array(init.error);

/** Report a failure to the recording thread (which raises it at its next call). */
function fail(message: string): void {
  reportWriterFailure(ctl, errorText, message);
}

const created = TraceWriter.create(init.dir, init.meta, { prepared: true });
if ('error' in created) {
  fail(created.error);
} else {
  const writer = created;
  Atomics.store(ctl, Ctl.STATE, 1);
  Atomics.notify(ctl, Ctl.STATE);
  parentPort!.on('message', (m: Msg) => {
    if (Atomics.load(ctl, Ctl.STATE) === 3) return;
    try {
      if (m.kind === 'batch') {
        writer.writeBatch(TableBuffer.over(m.table, m.length, m.cols, m.deltaCoded));
        // the column buffers go back to the recording thread for its next batches
        if (m.recycle) init.returns.postMessage({ table: m.table, capacity: m.capacity, cols: m.cols }, m.cols.map((c) => (c as Uint8Array).buffer as ArrayBuffer));
      }
      else if (m.kind === 'checkpoint') writer.writeCheckpoint(m.seq, m.state, new Map(m.pages), m.extra);
      else if (m.kind === 'sync') writer.sync(m.through);
      else writer.close(m.update);
      Atomics.store(bytes, 0, BigInt(writer.bytesWritten()));
      if (m.kind === 'close') { Atomics.store(ctl, Ctl.STATE, 2); Atomics.notify(ctl, Ctl.STATE); }
    } catch (e) {
      fail(e instanceof Error ? e.message : String(e));
      return;
    }
    Atomics.sub(ctl, Ctl.PENDING, 1);
    Atomics.notify(ctl, Ctl.PENDING);
  });
}
