// How the trace writer thread reports a failure to the recording thread: the message into the shared error
// text, the state word set to failed and the queue emptied, each with a notify, so a recording thread waiting
// in Atomics.wait wakes and raises the message. Kept free of heavy imports: the writer thread's entry uses it
// when loading the writer itself fails.
import { Ctl } from './background-writer.js';

/** Report `message` through the shared control words `ctl` and error text `text`. */
export function reportWriterFailure(ctl: Int32Array, text: Uint8Array, message: string): void {
  const b = Buffer.from(message.slice(0, 1000), 'utf8');
  text.set(b.subarray(0, text.length));
  Atomics.store(ctl, Ctl.ERROR_LEN, Math.min(b.length, text.length));
  Atomics.store(ctl, Ctl.STATE, 3);
  Atomics.notify(ctl, Ctl.STATE);
  Atomics.store(ctl, Ctl.PENDING, 0);
  Atomics.notify(ctl, Ctl.PENDING);
}
