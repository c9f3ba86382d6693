// The initial stack against this machine's kernel: test/native/auxv-dump.c prints the stack execve built
// (setarch -R, env -i), and initial-stack.ts + loader.ts must build the same bytes for the same argv, envp and
// execfn. Only the values named in KNOWN_DIFFERENCES may differ.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AuxType, STACK_TOP, buildInitialStack } from '../../src/guest/initial-stack.js';
import { type LoaderTarget, type LoadOptions, loadProgram } from '../../src/guest/loader.js';
import { dumpNativeStack } from '../native/auxv-dump.js';

/** Auxv values that legitimately differ from the host's, and why. */
const KNOWN_DIFFERENCES: ReadonlyMap<number, string> = new Map([
  [AuxType.SYSINFO_EHDR, 'the host maps a vDSO; we have none, and keep the slot as AT_IGNORE (type and value differ)'],
  [AuxType.MINSIGSTKSZ, 'the signal frame size depends on the FPU state size (host XSAVE vs our FXSAVE-only model)'],
  [AuxType.HWCAP, 'CPUID.1:EDX of the host vs of our CPUID model'],
  [AuxType.HWCAP2, 'host FSGSBASE support vs our model (0)'],
]);
// Also different: the 16 bytes AT_RANDOM points at (random per exec); we reuse the host's bytes so the
// comparison of the bytes stays exact everywhere else, and check the address only.

const nullTarget: LoaderTarget = { mapFixed() {}, mapStack() {}, setBrkStart() {}, write() {} };

function words(bytes: Uint8Array): bigint[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: bigint[] = [];
  for (let i = 0; i + 8 <= bytes.length; i += 8) out.push(view.getBigUint64(i, true));
  return out;
}

/** The auxv pairs of a stack image starting at argc, with the word index of each pair. */
function auxvOf(w: readonly bigint[]): { type: number; value: bigint; index: number }[] {
  const argc = Number(w[0]);
  let i = 1 + argc + 1;
  while (w[i] !== 0n) i++;
  i++;
  const out: { type: number; value: bigint; index: number }[] = [];
  for (;;) {
    const type = Number(w[i]);
    out.push({ type, value: w[i + 1]!, index: i });
    if (type === AuxType.NULL) return out;
    i += 2;
  }
}

const args = ['one', 'two words', ''];
const env = ['A=1', 'B=hello', 'LONGER_NAME=some value with spaces', 'EMPTY='];

describe('initial stack vs the host kernel (setarch -R)', () => {
  const native = dumpNativeStack(args, env);
  if (!native.ok) {
    console.warn(`SKIPPED native initial-stack comparison: ${native.reason}`);
    it.skip(`native comparison (${native.reason})`, () => {});
    return;
  }
  const nativeWords = words(native.bytes);
  const nativeAux = auxvOf(nativeWords);
  const auxValue = (t: number): bigint | undefined => nativeAux.find((e) => e.type === t)?.value;
  const randomAt = auxValue(AuxType.RANDOM)!;
  const nativeRandom = native.bytes.slice(Number(randomAt - native.sp), Number(randomAt - native.sp) + 16);
  const hasRseq = auxValue(AuxType.RSEQ_FEATURE_SIZE) !== undefined; // Linux >= 6.3
  const opts = (extra: Partial<LoadOptions> = {}): LoadOptions => ({
    target: nullTarget,
    execPath: native.path,
    args,
    env,
    random: () => nativeRandom,
    uid: BigInt(process.getuid?.() ?? 0),
    gid: BigInt(process.getgid?.() ?? 0),
    ...(hasRseq ? {} : { rseq: null }),
    ...extra,
  });

  it('has the stack top and auxv order we model', () => {
    expect(native.top).toBe(STACK_TOP);
    const order = nativeAux.map((e) => e.type);
    const expected = [
      AuxType.SYSINFO_EHDR, AuxType.MINSIGSTKSZ, AuxType.HWCAP, AuxType.PAGESZ, AuxType.CLKTCK, AuxType.PHDR,
      AuxType.PHENT, AuxType.PHNUM, AuxType.BASE, AuxType.FLAGS, AuxType.ENTRY, AuxType.UID, AuxType.EUID,
      AuxType.GID, AuxType.EGID, AuxType.SECURE, AuxType.RANDOM, AuxType.HWCAP2, AuxType.EXECFN, AuxType.PLATFORM,
      ...(hasRseq ? [AuxType.RSEQ_FEATURE_SIZE, AuxType.RSEQ_ALIGN] : []), AuxType.NULL,
    ];
    expect(order).toEqual(expected);
  });

  it('builds the same bytes except the named differences', () => {
    const loaded = loadProgram(readFileSync(native.path), opts());
    if (!loaded.ok) throw new Error(loaded.error);
    const ours = loaded.stack;
    expect(ours.sp).toBe(native.sp);
    expect(ours.top).toBe(native.top);
    expect(ours.bytes.length).toBe(native.bytes.length);

    const ourWords = words(ours.bytes);
    const ourAux = auxvOf(ourWords);
    expect(ourAux.length).toBe(nativeAux.length);
    const skipWords = new Set<number>();
    for (const [i, n] of nativeAux.entries()) {
      const o = ourAux[i]!;
      expect(o.index).toBe(n.index);
      const why = KNOWN_DIFFERENCES.get(n.type);
      if (why !== undefined) {
        if (n.type === AuxType.SYSINFO_EHDR) {
          expect(o.type).toBe(AuxType.IGNORE);
          skipWords.add(n.index);
        } else {
          expect(o.type, why).toBe(n.type);
        }
        skipWords.add(n.index + 1);
        continue;
      }
      expect({ type: o.type, value: o.value.toString(16) }).toEqual({ type: n.type, value: n.value.toString(16) });
    }
    // Every other word, including argv/envp pointers and all strings above the table, is identical.
    const ourCopy = ours.bytes.slice();
    const nativeCopy = native.bytes.slice();
    for (const w of skipWords) {
      ourCopy.fill(0, w * 8, w * 8 + 8);
      nativeCopy.fill(0, w * 8, w * 8 + 8);
    }
    expect(Buffer.from(ourCopy).toString('hex')).toBe(Buffer.from(nativeCopy).toString('hex'));
  });

  it('puts RSP 16 bytes higher when the AT_SYSINFO_EHDR slot is omitted', () => {
    const loaded = loadProgram(readFileSync(native.path), opts({ sysinfoEhdrSlot: 'omit' }));
    if (!loaded.ok) throw new Error(loaded.error);
    expect(loaded.sp).toBe(native.sp + 16n);
    expect(loaded.stack.auxv.some((e) => e.type === AuxType.IGNORE || e.type === AuxType.SYSINFO_EHDR)).toBe(false);
  });
});

describe('initial stack layout (no host needed)', () => {
  const aux = {
    phdr: 0x400040n, phent: 56n, phnum: 10n, entry: 0x401000n, base: 0n, hwcap: 0x78bfbffn, hwcap2: 0n,
    minsigstksz: 2048n, pagesz: 4096n, clktck: 100n, flags: 0n, uid: 0n, euid: 0n, gid: 0n, egid: 0n, secure: 0n,
    rseq: { featureSize: 28n, align: 32n }, sysinfoEhdrSlot: 'ignore' as const,
  };
  const random = Uint8Array.from({ length: 16 }, (_, i) => i + 1);

  it('places strings below 8 zero bytes at the top, then platform and random, then an aligned table', () => {
    const s = buildInitialStack({ argv: ['./prog', 'x'], envp: ['K=V'], execfn: './prog', platform: 'x86_64', random, aux });
    const at = (a: bigint, n: number): string => Buffer.from(s.bytes.subarray(Number(a - s.bottom), Number(a - s.bottom) + n)).toString('latin1');
    expect(s.execfnAddress).toBe(STACK_TOP - 8n - 7n);
    expect(at(STACK_TOP - 8n, 8)).toBe('\0'.repeat(8));
    expect(s.envpAddresses).toEqual([s.execfnAddress - 4n]);
    expect(s.argvAddresses).toEqual([s.execfnAddress - 4n - 2n - 7n, s.execfnAddress - 4n - 2n]);
    expect(at(s.argvAddresses[0]!, 28)).toBe('./prog\0x\0K=V\0./prog\0\0\0\0\0\0\0\0\0');
    const aligned = s.argvAddresses[0]! & ~0xfn;
    expect(s.platformAddress).toBe(aligned - 7n);
    expect(s.randomAddress).toBe(aligned - 23n);
    expect(at(s.platformAddress, 7)).toBe('x86_64\0');
    expect(s.sp % 16n).toBe(0n);
    const w = words(s.bytes);
    expect(w.slice(0, 6)).toEqual([2n, s.argvAddresses[0], s.argvAddresses[1], 0n, s.envpAddresses[0], 0n]);
    expect(auxvOf(w).map((e) => e.type).slice(0, 3)).toEqual([AuxType.IGNORE, AuxType.MINSIGSTKSZ, AuxType.HWCAP]);
    expect(auxvOf(w).find((e) => e.type === AuxType.EXECFN)?.value).toBe(s.execfnAddress);
  });
});
