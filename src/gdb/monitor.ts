// `monitor` commands (qRcmd): where the session stands in the recording, jumping in it, the trace summary, SQL
// over the trace (the `trace query` library, the session opened on first use), and one step into ring 0.
import { formatResult } from '../query/format-result.js';
import { parseTraceArgs, QuerySession } from '../query/query-session.js';
import { formatTraceInfo, traceInfo } from '../trace/trace-info.js';
import type { GdbServer } from './server.js';

/** What a monitor command prints, and whether it moved the position (gdb must then reread the registers). */
export interface MonitorOutput {
  /** Lines for gdb's console. */
  lines: string[];
  /** The position changed. */
  moved?: boolean;
}

/** Help text. */
export const MONITOR_HELP = [
  'monitor when            the current step (seq), its ring, instruction and symbol',
  'monitor seek SEQ        go to step SEQ (then `maint flush register-cache`)',
  'monitor info            the trace summary (as `trace info`)',
  'monitor sql QUERY       SQL over the trace (as `trace query`)',
  'monitor step-kernel     one step, into ring 0 if the next step is the kernel\'s',
];

/** SQL sessions by trace directory (DuckDB opened once per server process). */
const sessions = new Map<string, QuerySession>();

/** Run one monitor command. */
export async function monitorCommand(server: GdbServer, command: string): Promise<MonitorOutput> {
  const t = command.trim(), sp = t.search(/\s/);
  const verb = sp < 0 ? t : t.slice(0, sp), arg = sp < 0 ? '' : t.slice(sp + 1).trim();
  const steps = server.timeline.steps;
  const where = (): string => server.position >= steps ? `end of the recording (after step ${steps - 1})` : server.session.line(server.position).trim();
  switch (verb) {
    case 'when': return { lines: [`step ${server.position} of ${steps}`, where()] };
    case 'seek': {
      const seq = Number(arg);
      if (arg === '' || !Number.isInteger(seq) || seq < 0 || seq >= steps) return { lines: [`seek: expected a step 0..${steps - 1}`] };
      const to = server.timeline.owner(seq);
      server.seek(to);
      const note = to !== seq ? [`(step ${seq} is not visible in user mode: at the instruction that led to it; --kernel shows every step)`] : [];
      return { lines: [...note, `step ${server.position}: ${where()}`, 'run `maint flush register-cache` so gdb rereads the registers'], moved: true };
    }
    case 'step-kernel': {
      if (server.position + 1 >= steps) return { lines: ['at the end of the recording'] };
      server.seek(server.position + 1);
      return { lines: [`step ${server.position}: ${where()}`, 'run `maint flush register-cache` so gdb rereads the registers'], moved: true };
    }
    case 'info': {
      const info = traceInfo(server.session.dir);
      return { lines: 'error' in info ? [info.error] : formatTraceInfo(info) };
    }
    case 'sql': {
      if (arg === '') return { lines: ['sql: give a query, e.g. monitor sql select count(*) from syscalls'] };
      let q = sessions.get(server.session.dir);
      if (q === undefined) {
        const opened = await QuerySession.open(parseTraceArgs([server.session.dir]));
        if ('error' in opened) return { lines: [opened.error] };
        q = opened;
        sessions.set(server.session.dir, q);
      }
      const r = await q.run(arg);
      if ('error' in r) return { lines: [r.error] };
      return { lines: formatResult(r, 'table').replace(/\n$/, '').split('\n') };
    }
    case '': case 'help': return { lines: MONITOR_HELP };
    default: return { lines: [`unknown monitor command "${verb}"`, ...MONITOR_HELP] };
  }
}

/** Close the SQL sessions (at the end of the server process). */
export function closeMonitorSessions(): void {
  for (const q of sessions.values()) q.closeSync();
  sessions.clear();
}
