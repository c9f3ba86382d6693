// How a recording ended, as gdb's exit replies say it: `W` with the exit status, `X` with the fatal signal, or
// nothing (a recording stopped by --max-steps or cut short: there is no more history forwards).
import { TraceReader } from '../trace/trace-reader.js';

/** The recorded end. */
export type RecordedEnd =
  | { kind: 'exit'; status: number } // exit_group(status)
  | { kind: 'signal'; signal: number } // killed by a fatal signal
  | { kind: 'none' }; // the recording just stops

/** Read the end from the trace's events (the last `exit` or `signal` row). */
export function recordedEnd(reader: TraceReader): RecordedEnd {
  const t = reader.readTable('events').columns;
  const kinds = t.strings('kind'), vec = t.ints('vector'), code = t.ints('error_code');
  for (let i = t.length - 1; i >= 0; i--) {
    if (kinds[i] === 'exit') return { kind: 'exit', status: code[i]! & 0xff };
    if (kinds[i] === 'signal') return { kind: 'signal', signal: vec[i]! };
  }
  return { kind: 'none' };
}
