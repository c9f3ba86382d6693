// Output that stops when its reader goes: once stdout or stderr is a pipe whose reader has closed (`trace step ...
// | head -1`), the next write fails with EPIPE; the process then ends at once with status 0 and no error text, as a
// reader that has seen enough is not an error of this tool (any other output error, EIO or ENOSPC, is one line and
// status 2). A loop that prints as it goes asks outputClosed() after each write (a write to a pipe is synchronous,
// so a failed one marks the stream at once) and stops early.
import { writeSync } from 'node:fs';

/** Install the EPIPE handlers on stdout and stderr (once per process). */
export function stopOnClosedOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(0);
      try { writeSync(2, `trace: cannot write the output: ${e.code ?? e.message}\n`); } catch { /* stderr is gone too */ }
      process.exit(2);
    });
  }
}

/** True once a write to stdout has failed (its reader closed the pipe). */
export function outputClosed(): boolean {
  return process.stdout.errored !== null || process.stdout.destroyed;
}
