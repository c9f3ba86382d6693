// BusyBox (Debian's busybox-static: a real static glibc program nobody here wrote): applets under the emulated
// machine print the same bytes and exit with the same status as natively.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { emulated, native } from '../helpers/run-both.js';

const BUSYBOX = '/bin/busybox';
const have = existsSync(BUSYBOX);
if (!have) console.warn(`SKIPPED: BusyBox tests need ${BUSYBOX} (Debian package busybox-static)`);

const LINES = 'pear\napple\nfig\nbanana\napple\n';

const CASES: [string, string[], string?][] = [
  ['echo', ['echo', 'hello', 'busy', 'box']],
  ['echo -n -e', ['echo', '-ne', 'a\\tb\\n']],
  ['seq', ['seq', '1', '3', '25']],
  ['expr', ['expr', '6', '*', '7', '+', '1']],
  ['expr (false)', ['expr', '3', '<', '2']],
  ['printf', ['printf', '%5d|%-6s|%x|%.3f\\n', '42', 'ab', '255', '3.14159']],
  ['sort stdin', ['sort'], LINES],
  ['sort -u -r stdin', ['sort', '-u', '-r'], LINES],
  ['sha256sum stdin', ['sha256sum'], LINES],
  ['wc (root)', ['wc', 'data/input.txt']],
  ['cat (root)', ['cat', 'data/input.txt']],
  ['ls (root)', ['ls', 'data']],
  ['ls -1 (root)', ['ls', '-1', 'data/sub']],
  ['cat missing', ['cat', 'data/nope']],
  // the shell's `read` polls stdin before each read (poll)
  ['sh read', ['sh', '-c', 'while read a b; do echo "[$b] [$a]"; done; read -t 1 x; echo "end $?"'], 'one two three\nfour\n'],
];

describe.skipIf(!have)('BusyBox applets match native runs', () => {
  for (const [name, args, stdin] of CASES) {
    it(name, () => {
      const n = native(BUSYBOX, args, stdin);
      const e = emulated(BUSYBOX, args, stdin);
      expect(e.stdout).toBe(n.stdout);
      expect(e.stderr).toBe(n.stderr);
      expect(e.status).toBe(n.status);
    });
  }
});
