// The gdb command line `trace gdb` runs: stock gdb with the recorded executable, connected through a pipe to
// `trace gdbserver --stdio` (so one command opens a session, as `rr replay` does).
import { spawnSync } from 'node:child_process';

/** Quote a word for /bin/sh (gdb runs `target remote | COMMAND` through the shell). */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Arguments for gdb: a generous reply timeout (the server may build the trace's index first), the connection,
 * the executable, then the user's own arguments. */
export function gdbArguments(serverCommand: string[], exe: string | undefined, extra: readonly string[]): string[] {
  return ['-iex', 'set remotetimeout 600', '-ex', `target remote | ${serverCommand.map(shellQuote).join(' ')}`, ...extra, ...(exe !== undefined ? [exe] : [])];
}

/** The gdb to run: $GDB or `gdb` on PATH; undefined if it cannot be started. */
export function findGdb(): string | undefined {
  const gdb = process.env.GDB ?? 'gdb';
  const r = spawnSync(gdb, ['--version'], { stdio: 'ignore' });
  return r.error === undefined && r.status === 0 ? gdb : undefined;
}
