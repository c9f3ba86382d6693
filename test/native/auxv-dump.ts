// Runs test/native/auxv-dump.c natively under `setarch x86_64 -R` with exactly the given environment and returns
// the initial stack the host kernel built: the bytes from the initial RSP to the top of the stack.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Unavailable, compileC, setarchWorks } from './native-tools.js';

export interface NativeStack {
  readonly ok: true;
  readonly path: string; // the executable, as passed to execve (AT_EXECFN, argv[0])
  readonly sp: bigint; // initial RSP (address of argc)
  readonly top: bigint; // end of the [stack] mapping
  readonly bytes: Uint8Array; // [sp, top)
}

const source = join(dirname(fileURLToPath(import.meta.url)), 'auxv-dump.c');

/** Compiles auxv-dump (gcc -static) once. */
export function buildAuxvDump(): { ok: true; path: string } | Unavailable {
  return compileC(source, 'auxv-dump', ['-static', '-O1']);
}

/** Runs auxv-dump with argv = [path, ...args] and envp = env (nothing else) with randomisation off. */
export function dumpNativeStack(args: readonly string[], env: readonly string[]): NativeStack | Unavailable {
  const bin = buildAuxvDump();
  if (!bin.ok) return bin;
  const setarch = setarchWorks();
  if (!setarch.ok) return setarch;
  const r = spawnSync('env', ['-i', ...env, 'setarch', 'x86_64', '-R', bin.path, ...args], { encoding: 'utf8' });
  if (r.status !== 0) return { ok: false, reason: `auxv-dump failed (status ${r.status}): ${r.stderr}` };
  const lines = r.stdout.split('\n');
  const field = (i: number, name: string): string => {
    const [k, v] = (lines[i] ?? '').split(' ');
    if (k !== name || v === undefined) throw new Error(`auxv-dump: unexpected output line ${i}: ${lines[i]}`);
    return v;
  };
  return {
    ok: true,
    path: bin.path,
    sp: BigInt(`0x${field(0, 'sp')}`),
    top: BigInt(`0x${field(1, 'top')}`),
    bytes: Uint8Array.from(Buffer.from(field(2, 'bytes'), 'hex')),
  };
}
