// `monitor` commands (qRcmd): where the session stands in the recording and how to jump in it.
import type { GdbServer } from './server.js';

/** Run one monitor command; returns the lines to print. */
export function monitorCommand(server: GdbServer, command: string): string[] {
  const [verb = '', ...rest] = command.trim().split(/\s+/);
  const arg = rest.join(' ');
  switch (verb) {
    case 'when': return [`step ${server.position} of ${server.timeline.steps}`];
    case 'seek': {
      const seq = Number(arg);
      if (!Number.isInteger(seq) || seq < 0 || seq >= server.timeline.steps) return [`seek: expected a step 0..${server.timeline.steps - 1}`];
      server.seek(seq);
      return [`step ${server.position}`];
    }
    default: return [`unknown monitor command "${verb}"; try: when, seek SEQ`];
  }
}
