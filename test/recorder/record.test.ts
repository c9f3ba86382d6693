// Recording whole programs: output and exit status equal native runs; the trace (read back with apache-arrow
// through TraceReader) has consecutive steps, a SYSRETQ for every SYSCALL, an IRETQ and a successful re-execution
// for every page fault; user-mode steps equal the native single-stepped count.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ENV } from '../../src/guest/run-program.js';
import { native, ROOT } from '../helpers/run-both.js';
import { checkInvariants, recordTo } from '../helpers/trace-checks.js';
import { stepTrace } from '../native/steptrace.js';

const BIN = resolve('guests/bin');

const SAMPLES: [string, string[]][] = [
  ['hello-musl', []], ['compute-musl', ['200']], ['args-musl', ['x', 'y z']], ['readfile-musl', ['data/input.txt']],
  ['pages-musl', []], ['segv-musl', []], ['hello-glibc', []], ['compute-glibc', ['200']], ['pages-glibc', []],
  ['readfile-glibc', ['data/input.txt']], ['segv-glibc', []], ['hello-musl-pie', []],
];

describe('trace record: programs', () => {
  for (const [name, args] of SAMPLES) {
    it(`${name} ${args.join(' ')}: output, status and trace invariants`, () => {
      const image = join(BIN, name);
      const n = native(image, args);
      const rec = recordTo(image, args);
      if (!name.startsWith('args')) expect(rec.stdout).toBe(n.stdout); // args prints AT_HWCAP (the modelled CPU's)
      expect(rec.stderr).toBe(n.stderr);
      expect(rec.summary.exitStatus).toBe(n.status);
      const c = checkInvariants(rec.reader, rec.summary);
      expect(c.syscalls).toBe(rec.summary.syscalls);
      if (name.startsWith('pages')) expect(c.pageFaults).toBeGreaterThan(1000);
    });
  }

  const busybox = existsSync('/bin/busybox');
  if (!busybox) console.warn('SKIPPED: recording BusyBox needs /bin/busybox (busybox-static)');
  it.skipIf(!busybox)('BusyBox sha256sum and sort on stdin, wc under --root', () => {
    for (const [args, stdin] of [[['sha256sum'], 'abc\n'], [['sort', '-r'], 'b\na\nc\n'], [['wc', 'data/input.txt'], undefined]] as const) {
      const n = native('/bin/busybox', [...args], stdin);
      const rec = recordTo('/bin/busybox', [...args], stdin);
      expect(rec.stdout).toBe(n.stdout);
      expect(rec.summary.exitStatus).toBe(n.status);
      checkInvariants(rec.reader, rec.summary);
    }
  });
});

const steptrace = stepTrace(join(BIN, 'hello-musl'), { env: DEFAULT_ENV, cwd: ROOT });
if (!steptrace.ok) console.warn(`SKIPPED native user-mode step counts: ${steptrace.reason}`);

describe.skipIf(!steptrace.ok)('trace record: user-mode steps equal the native single-stepped count', () => {
  for (const [name, args] of [['hello-musl', []], ['compute-musl', ['60']]] as [string, string[]][]) {
    it(`${name} ${args.join(' ')}`, () => {
      const image = join(BIN, name);
      const nat = name === 'hello-musl' && steptrace.ok ? steptrace : stepTrace(image, { args, env: DEFAULT_ENV, cwd: ROOT });
      if (!nat.ok) throw new Error(nat.reason);
      const rec = recordTo(image, args);
      const c = checkInvariants(rec.reader, rec.summary);
      // natively a faulting attempt is handled invisibly by the kernel: compare the completed user-mode steps
      expect(c.userSteps).toBe(nat.steps);
    });
  }
});
