// Entry of the trace writer thread: loads the writer (background-writer-run.ts) and, if loading fails, reports
// that through the shared control words so the recording thread stops with the message instead of waiting.
import { workerData } from 'node:worker_threads';
import { reportWriterFailure } from './writer-failure.js';

try {
  await import('./background-writer-run.js');
} catch (e) {
  const { ctl, error } = workerData as { ctl: SharedArrayBuffer; error: SharedArrayBuffer };
  reportWriterFailure(new Int32Array(ctl), new Uint8Array(error), `cannot load the trace writer: ${e instanceof Error ? e.message : String(e)}`);
}
