// The scratch files of index builds (the SQL index's `*.build-<pid>*` files, the step index's `step-index.tmp<pid>`
// directory) never outlive their build: a build removes them in `finally`, an interrupt (SIGINT, SIGTERM, SIGHUP)
// removes them before the process ends, and what a killed process (SIGKILL, or a signal during a synchronous build,
// which JavaScript cannot catch until the build returns) left behind is removed by the next build of that trace,
// once no process with that id runs.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** True if a process with this id runs (EPERM: it runs under another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Remove the entries of `dir` whose name matches `pattern` (group 1: the builder's process id) and whose process is gone. */
export function removeStaleScratch(dir: string, pattern: RegExp): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = pattern.exec(name);
    if (m === null) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || !alive(pid)) rmSync(join(dir, name), { recursive: true, force: true });
  }
}

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

/** Run `cleanup` and exit (128 + signal) if an interrupt arrives before the returned release function is called. */
export function cleanupOnSignal(cleanup: () => void): () => void {
  const handler = (sig: NodeJS.Signals): void => {
    try { cleanup(); } finally { process.exit(EXIT[sig] ?? 130); }
  };
  for (const s of SIGNALS) process.on(s, handler);
  return () => { for (const s of SIGNALS) process.off(s, handler); };
}
