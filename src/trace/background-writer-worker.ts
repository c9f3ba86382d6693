// Entry of the trace writer thread: loads the writer (background-writer-run.ts) and, if loading fails, reports
// that through the shared control words so the recording thread stops with the message instead of waiting.
import { workerData } from 'node:worker_threads';

try {
  await import('./background-writer-run.js');
} catch (e) {
  const { ctl: ctlBuf, error } = workerData as { ctl: SharedArrayBuffer; error: SharedArrayBuffer };
  const ctl = new Int32Array(ctlBuf), text = new Uint8Array(error);
  const b = Buffer.from(`cannot load the trace writer: ${e instanceof Error ? e.message : String(e)}`.slice(0, 1000), 'utf8');
  text.set(b.subarray(0, text.length));
  // the slots of Ctl in background-writer.ts: PENDING 0, STATE 1 (3 = failed), ERROR_LEN 2
  Atomics.store(ctl, 2, Math.min(b.length, text.length));
  Atomics.store(ctl, 1, 3);
  Atomics.notify(ctl, 1);
  Atomics.store(ctl, 0, 0);
  Atomics.notify(ctl, 0);
}
