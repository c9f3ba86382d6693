// Small helpers for the native oracles: find host tools, compile a C helper into a temporary directory once.
// Every helper answers with a value that says why it cannot run, so tests can skip loudly instead of failing.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A tool or build that is not available here, with the reason to print when skipping. */
export interface Unavailable {
  readonly ok: false;
  readonly reason: string;
}

/** True when `name` runs (checked with `name --version`). */
export function haveTool(name: string): boolean {
  const r = spawnSync(name, ['--version'], { stdio: 'ignore' });
  return r.error === undefined && r.status === 0;
}

const built = new Map<string, string>();

/** Compiles `source` (a path) with `compiler` (gcc, musl-gcc) and `flags` into a fresh temporary directory; cached per process. */
export function compileC(source: string, name: string, flags: readonly string[], compiler = 'gcc'): { ok: true; path: string } | Unavailable {
  const key = `${compiler}\0${source}\0${flags.join('\0')}`;
  const cached = built.get(key);
  if (cached !== undefined) return { ok: true, path: cached };
  if (!haveTool(compiler)) return { ok: false, reason: `${compiler} is not installed` };
  const dir = mkdtempSync(join(tmpdir(), 'itrace-native-'));
  const out = join(dir, name);
  try {
    execFileSync(compiler, [...flags, '-o', out, source], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString() ?? String(e);
    return { ok: false, reason: `${compiler} failed on ${source}: ${stderr.split('\n')[0] ?? ''}` };
  }
  built.set(key, out);
  return { ok: true, path: out };
}

/** Checks that `setarch x86_64 -R` can run a program here (personality(ADDR_NO_RANDOMIZE) may be forbidden). */
export function setarchWorks(): { ok: true } | Unavailable {
  const r = spawnSync('setarch', ['x86_64', '-R', 'true'], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.error !== undefined) return { ok: false, reason: `setarch is not available (${r.error.message})` };
  if (r.status !== 0) return { ok: false, reason: `setarch x86_64 -R fails here: ${r.stderr.toString().trim()}` };
  return { ok: true };
}
