// The shared admission of a trace by the commands that read one (step, query, replay, diff): every checksum is
// compared first (so cached indexes are never served for a damaged trace), and a damaged trace is refused with a
// one-line message naming the file and the problem (exit status 2) unless --allow-partial, which serves its
// consistent prefix; whenever only a prefix is served (that, or an interrupted recording) a note on stderr says
// which steps.
import { writeSync } from 'node:fs';
import { Flags } from '@oclif/core';
import { checkTrace } from '../trace/trace-check.js';
import { admitCheck, allowPartial } from '../trace/trace-reader.js';

/** The --allow-partial flag. */
export const allowPartialFlag = Flags.boolean({
  description: 'use the consistent prefix of a damaged trace (the steps every table holds intact) instead of refusing it',
  default: false,
});

/** Admit a trace: null if it may be used (with a note when only a prefix is), else the refusal. */
export function admitTrace(dir: string, allow: boolean): { error: string } | { note?: string } {
  allowPartial(dir, allow);
  const deep = checkTrace(dir, true);
  if ('error' in deep) return deep;
  const c = admitCheck(dir, allow);
  if ('error' in c) return c;
  if (c.steps === 0) return { error: `${dir}: no step is complete in every table${c.damage.length > 0 ? ` (${c.damage[0]})` : ''}` };
  if (c.whole) return {};
  const range = `steps 0..${c.steps - 1}`;
  if (c.damage.length > 0) return { note: `${dir} is damaged (${c.damage[0]}); using its consistent prefix, ${range} (--allow-partial)` };
  return { note: `${dir} is an interrupted recording${c.meta.stopped !== undefined ? ` (${c.meta.stopped})` : ''}; using its consistent prefix, ${range}` };
}

/** admitTrace for a command: prints the note, or the refusal and exits with status 2. */
export function admitTraceOrExit(verb: string, dir: string, allow: boolean): void {
  const a = admitTrace(dir, allow);
  if ('error' in a) {
    writeSync(2, `trace ${verb}: ${a.error.replace(/\s*\n\s*/g, ' ')}\n`);
    process.exit(2);
  }
  if (a.note !== undefined) writeSync(2, `trace ${verb}: note: ${a.note}\n`);
}
