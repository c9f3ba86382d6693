// Lockstep against the real machine: the same static program single-stepped natively (ptrace, randomisation off,
// test/native/steptrace.c) and stepped on the emulated machine under the monitor trap flag must execute the same
// user-mode instructions, in the same order, with the same 16 GPRs and RFLAGS before every one of them.
//
// Alignment: steptrace records the state BEFORE each user-mode step (record 0 = the entry state; a SYSCALL is one
// step whose successor record is the state after the whole system call; a REP iteration is one step). The emulated
// side is compared at the same points: the state at the MTF exit that precedes each CPL-3 step that retires. A
// CPL-3 attempt that faulted (#PF, resolved by demand paging, then re-executed) is not a step natively (the kernel
// handles the fault invisibly) and is left out; kernel steps are left out.
//
// The native run gets the same argv[0] (absolute path), the same environment (DEFAULT_ENV), the same directory, and
// the emulated run gets the native run's 16 AT_RANDOM bytes and the host's uid. What may still differ is listed in
// KNOWN_DIFFERENCES, each with its reason; nothing else is masked.
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Decoder, DecoderOptions, Instruction, Mnemonic } from 'iced-x86';
import { afterAll, describe, expect, it } from 'vitest';
import { cpuid } from '../../src/cpu/cpuid.js';
import { archFlags } from '../../src/cpu/decoded.js';
import { getFlags } from '../../src/cpu/flags.js';
import { GuestMachine } from '../../src/guest/machine.js';
import { DEFAULT_ENV } from '../../src/guest/run-program.js';
import { type Unavailable, compileC, setarchWorks } from '../native/native-tools.js';
import { NativeTrace, STEP_FIELDS, StepField, stepTrace } from '../native/steptrace.js';
import { gpr, peek, rip, runStepped } from '../vmx/mtf-stepper.js';

const BIN = resolve('guests/bin');
const SRC = resolve('guests/src');
const ROOT = resolve('guests/root');
/** A program to compare: a label, the image, its arguments and the guest's root (the host's / for a dynamic one). */
interface Case { label: string; image: () => { ok: true; path: string } | Unavailable; args: string[]; root: string; hideVdso?: boolean }
const sample = (name: string) => (): { ok: true; path: string } => ({ ok: true, path: join(BIN, name) });
const CASES: Case[] = [
  { label: 'hello-musl', image: sample('hello-musl'), args: [], root: ROOT },
  { label: 'compute-musl', image: sample('compute-musl'), args: ['100'], root: ROOT },
  // dynamically linked (musl-gcc's default). musl's loader takes the vDSO into its list of objects when auxv has
  // AT_SYSINFO_EHDR, so the native run has that entry turned into AT_IGNORE at the exec stop, as the guest's is.: PIE at 0x555555554000, musl's loader (its libc.so) below mmap_base
  { label: 'hello-musl-dynamic', image: () => compileC(join(SRC, 'hello.c'), 'hello-musl-dynamic', ['-O1'], 'musl-gcc'), args: [], root: '/', hideVdso: true },
];

/** GPR number (encoding order) of each steptrace field; -1 for rip and rflags. */
const GPR_OF: Record<StepField, number> = {
  rip: -1, rax: 0, rbx: 3, rcx: 1, rdx: 2, rsi: 6, rdi: 7, rbp: 5, rsp: 4,
  r8: 8, r9: 9, r10: 10, r11: 11, r12: 12, r13: 13, r14: 14, r15: 15, rflags: -1,
};
const WORDS = STEP_FIELDS.length;

/** The host's auxv (same host, same kernel as the native run): the values the emulated machine sets differently. */
function hostAux(): Map<bigint, bigint> {
  const raw = readFileSync('/proc/self/auxv');
  const out = new Map<bigint, bigint>();
  for (let i = 0; i + 16 <= raw.length; i += 16) out.set(raw.readBigUInt64LE(i), raw.readBigUInt64LE(i + 8));
  return out;
}

/** What a known difference sees: one register of the state before user step `step`. */
interface Diff {
  step: number; // index of the user-mode step (= native record)
  field: StepField;
  native: bigint;
  emulated: bigint;
  prev: string; // the previous user-mode instruction (the one whose result this state is)
  prevSyscall: number; // system call number if the previous instruction was SYSCALL, else -1
  midRep: boolean; // between two iterations of a REP string instruction (the previous step was one, same RIP)
  r11FromSyscall: boolean; // R11 has not been seen equal on both sides since the last SYSCALL set it
  flagsFrom: ReadonlySet<string>; // known differences that explained a GPR before the instruction that last wrote flags
}

/** A legitimate difference between the real machine and the emulated one. */
interface KnownDifference {
  name: string;
  reason: string;
  applies(d: Diff): boolean;
  maxUses: number; // how many register values it may explain in one run (so it cannot hide a real bug)
}

const AT_IGNORE = 1n, AT_HWCAP = 16n, AT_HWCAP2 = 26n, AT_SYSINFO_EHDR = 33n, AT_MINSIGSTKSZ = 51n;
const SYS_SET_TID_ADDRESS = 218;

function knownDifferences(nativePid: bigint, emulatedPid: bigint): KnownDifference[] {
  const aux = hostAux();
  const ourHwcap = BigInt(cpuid(1, 0)[3] >>> 0);
  // musl's __init_libc copies every auxv pair into aux[] (the loop loads each type and value into registers)
  const auxPair = (type: bigint, ours: bigint) => (d: Diff): boolean => aux.has(type) && d.native === aux.get(type) && d.emulated === ours;
  return [
    {
      name: 'RFLAGS.RF between REP iterations',
      reason: 'natively each stop is a #DB trap, and a trap between iterations of a REP string instruction saves RF = 1 ' +
        '(SDM vol. 3A 6.8.3); an MTF VM exit saves the current RF, which is 0 (SDM vol. 3C 28.3.3)',
      applies: (d) => d.midRep && d.field === 'rflags' && d.native === (d.emulated | 0x10000n),
      maxUses: 1_000_000,
    },
    {
      name: 'auxv AT_SYSINFO_EHDR slot',
      reason: 'the guest has no vDSO: the loader keeps the slot as AT_IGNORE (type 1, value 0) so that every stack address equals the native one',
      applies: (d) => (d.native === AT_SYSINFO_EHDR && d.emulated === AT_IGNORE) || (d.native === 0x7ffff7ffd000n && d.emulated === 0n),
      maxUses: 40,
    },
    {
      name: 'RFLAGS from the AT_SYSINFO_EHDR slot',
      reason: 'musl compares each auxv type (`cmp rdx, AUX_CNT` in __init_libc, `cmp rax, AT_RANDOM` in mallocng): the ' +
        'flags of 33 and of 1 differ until the next flag-writing instruction',
      applies: (d) => d.field === 'rflags' && d.flagsFrom.has('auxv AT_SYSINFO_EHDR slot'),
      maxUses: 40,
    },
    {
      name: 'auxv AT_HWCAP',
      reason: 'AT_HWCAP is CPUID.1:EDX; the emulated processor advertises exactly what it implements (src/cpu/cpuid.ts)',
      applies: auxPair(AT_HWCAP, ourHwcap),
      maxUses: 48, // a dynamic musl program walks auxv in the loader's start, its stage 2 and __init_libc
    },
    {
      name: 'auxv AT_HWCAP2',
      reason: 'the host reports FSGSBASE (2); the emulated machine reports 0',
      applies: auxPair(AT_HWCAP2, 0n),
      maxUses: 12,
    },
    {
      name: 'auxv AT_MINSIGSTKSZ',
      reason: 'the host reports its XSAVE signal frame size; the emulated processor has no XSAVE (2048)',
      applies: auxPair(AT_MINSIGSTKSZ, 2048n),
      maxUses: 12,
    },
    {
      name: 'process id',
      reason: `set_tid_address returns the caller's tid: the host's pid natively (${nativePid}), ${emulatedPid} in the guest; musl stores it in the thread descriptor`,
      applies: (d) => d.native === nativePid && d.emulated === emulatedPid,
      maxUses: 16,
    },
    {
      name: 'R11 after SYSCALL under ptrace',
      reason: 'SYSCALL saves RFLAGS in R11; natively the single-stepping tracer\'s TF is set in the tracee\'s RFLAGS at that ' +
        'moment (ptrace hides it from RFLAGS, not from R11); MTF never sets TF',
      applies: (d) => d.field === 'r11' && d.r11FromSyscall && d.native === (d.emulated | 0x100n) && (d.emulated & 0x100n) === 0n,
      maxUses: 1_000_000,
    },
  ];
}

const dir = mkdtempSync(join(tmpdir(), 'itrace-lockstep-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Arithmetic flags an instruction leaves undefined, and the flags it writes, as RFLAGS bits (from iced). */
interface FlagInfo { undefinedFlags: number; modified: number; text: string; mnemonic: Mnemonic; rep: boolean }

function flagInfo(cache: Map<bigint, FlagInfo>, m: GuestMachine, at: bigint): FlagInfo {
  let f = cache.get(at);
  if (f === undefined) {
    const bytes = peek(m, at, 15) ?? peek(m, at, 1)!;
    const d = new Decoder(64, bytes, DecoderOptions.None);
    d.ip = at;
    const ins: Instruction = d.decode();
    f = { undefinedFlags: archFlags(ins.rflagsUndefined), modified: archFlags(ins.rflagsModified), text: ins.toString(), mnemonic: ins.mnemonic,
      rep: (ins.hasRepPrefix || ins.hasRepnePrefix) && ins.isStringInstruction };
    ins.free(); d.free();
    cache.set(at, f);
  }
  return f;
}

interface Lockstep {
  native: NativeTrace;
  userSteps: number; // retired CPL-3 steps of the emulated run
  faultedAttempts: number; // CPL-3 attempts that faulted (page faults resolved by demand paging)
  kernelSteps: number;
  compared: number; // user steps whose state was compared
  divergence: string | undefined; // first RIP divergence
  mismatches: string[]; // unexplained register differences (first 20)
  masked: Map<string, number>; // uses of each known difference
  maskedFlags: number; // RFLAGS comparisons where some undefined flag was masked
  stdout: string;
  status: number;
}

function lockstep(name: string, image: string, args: string[], root: string, native: NativeTrace): Lockstep {
  const outPath = join(dir, `${name}.out`), errPath = join(dir, `${name}.err`);
  const out = openSync(outPath, 'w'), err = openSync(errPath, 'w');
  let randomUsed = false;
  const m = GuestMachine.create({
    image: new Uint8Array(readFileSync(image)), execPath: image, args, env: DEFAULT_ENV, root, stdio: [0, out, err],
    uid: process.getuid?.() ?? 0,
    // AT_RANDOM (the first 16 bytes asked for) gets the native run's bytes
    random: (n) => { if (!randomUsed && n === 16) { randomUsed = true; return native.random!.slice(); } return new Uint8Array(n); },
  });
  if ('error' in m) throw new Error(m.error);
  const nativePid = (() => {
    // the native tid: RAX after the set_tid_address SYSCALL (the record that follows it)
    for (let i = 0; i + 1 < native.steps; i++) {
      if (native.records[i * WORDS + 1] === BigInt(SYS_SET_TID_ADDRESS)) {
        const at = native.records[i * WORDS]!;
        if (native.records[(i + 1) * WORDS] === at + 2n) return native.records[(i + 1) * WORDS + 1]!;
      }
    }
    return -1n;
  })();
  const known = knownDifferences(nativePid, BigInt(m.linux.ids.pid));
  const res: Lockstep = {
    native, userSteps: 0, faultedAttempts: 0, kernelSteps: 0, compared: 0, divergence: undefined, mismatches: [], masked: new Map(),
    maskedFlags: 0, stdout: '', status: -1,
  };
  const infos = new Map<bigint, FlagInfo>();
  let before: bigint[] | undefined; // state before the next user step: rip, GPRs in steptrace order, rflags
  let unknown = 0; // RFLAGS bits left undefined by earlier instructions and not written since
  let prev: FlagInfo | undefined;
  let prevSyscall = -1;
  let prevRip = -1n;
  let r11FromSyscall = false;
  let explained = new Set<string>(); // known differences that explained a GPR of the state last compared
  let flagsFrom: ReadonlySet<string> = new Set<string>();
  const snapshot = (): bigint[] => STEP_FIELDS.map((f) => (f === 'rip' ? rip(m) : f === 'rflags' ? BigInt(getFlags(m.cpu.r)) : gpr(m, GPR_OF[f])));
  const compare = (k: number, e: bigint[]): void => {
    const base = k * WORDS;
    if (native.records[base] !== e[0]) {
      res.divergence = `user step ${k}: native rip 0x${native.records[base]!.toString(16)}, emulated rip 0x${e[0]!.toString(16)} (after ${prev?.text ?? 'entry'})`;
      return;
    }
    explained = new Set<string>();
    for (let f = 1; f < WORDS; f++) {
      const field = STEP_FIELDS[f]!;
      let n = native.records[base + f]!, v = e[f]!;
      if (field === 'rflags' || (field === 'r11' && prevSyscall >= 0)) { // R11 after SYSCALL is the RFLAGS image
        if (((n ^ v) & BigInt(unknown)) !== 0n) res.maskedFlags++;
        n &= ~BigInt(unknown); v &= ~BigInt(unknown);
      }
      if (field === 'r11' && n === v) r11FromSyscall = false;
      if (n === v) continue;
      const midRep = prevRip === e[0] && prev !== undefined && prev.rep;
      const d: Diff = { step: k, field, native: n, emulated: v, prev: prev?.text ?? 'entry', prevSyscall, midRep, r11FromSyscall, flagsFrom };
      const rule = known.find((r) => r.applies(d));
      if (rule !== undefined) { res.masked.set(rule.name, (res.masked.get(rule.name) ?? 0) + 1); explained.add(rule.name); continue; }
      if (res.mismatches.length < 20) {
        res.mismatches.push(`user step ${k} at 0x${e[0]!.toString(16)} (after \`${d.prev}\`): ${field} native 0x${n.toString(16)} emulated 0x${v.toString(16)}`);
      }
    }
  };
  try {
    const run = runStepped(m, (s) => {
      if (s.cpl !== 3) { res.kernelSteps++; } else if (s.faulted) { res.faultedAttempts++; } else {
        // a retired user step: its before-state is `before`
        const k = res.userSteps++;
        if (before !== undefined && res.divergence === undefined && k < native.steps) { compare(k, before); res.compared++; }
        const info = flagInfo(infos, m, s.rip);
        if (info.mnemonic === Mnemonic.Syscall) {
          prevSyscall = Number(before![STEP_FIELDS.indexOf('rax')]! & 0xffffffffn); // RAX before the SYSCALL
          r11FromSyscall = true;
          // SYSRET restores RFLAGS from R11: the flags (and the undefined ones) are those before the SYSCALL
        } else {
          prevSyscall = -1;
          unknown = (unknown & ~info.modified) | info.undefinedFlags;
          if (info.modified !== 0) flagsFrom = explained;
        }
        prev = info;
        prevRip = s.rip;
      }
      before = m.cpu.cpl === 3 ? snapshot() : before;
    });
    res.status = run.outcome.kind === 'exit' ? run.outcome.status : -1;
  } finally {
    closeSync(out); closeSync(err);
  }
  res.stdout = readFileSync(outPath, 'latin1');
  return res;
}

const tools = setarchWorks();
const probe = tools.ok ? stepTrace(join(BIN, 'hello-musl'), { env: DEFAULT_ENV, cwd: ROOT, random: true }) : tools;
if (!probe.ok) console.warn(`SKIPPED lockstep comparison with the real machine: ${probe.reason}`);

describe.skipIf(!probe.ok)('lockstep with the real machine (ptrace single-step vs MTF)', () => {
  for (const { label: name, image: build, args, root, hideVdso } of CASES) {
    const built = build();
    if (!built.ok) console.warn(`SKIPPED lockstep ${name}: ${built.reason}`);
    it.skipIf(!built.ok)(`${name} ${args.join(' ')}: same user-mode instructions, RIP sequence and registers`, () => {
      if (!built.ok) return;
      const image = built.path;
      const native = name === 'hello-musl' && probe.ok ? probe : stepTrace(image, { args, env: DEFAULT_ENV, cwd: ROOT, random: true, hideVdso });
      if (!native.ok) throw new Error(native.reason);
      expect(native.random).toHaveLength(16);
      const r = lockstep(name, image, args, root, native);
      const masked = [...r.masked].map(([k, n]) => `${k} x${n}`).join(', ') || 'none';
      console.log(`${name} ${args.join(' ')}: user-mode instructions native ${native.steps}, emulated ${r.userSteps}` +
        ` (+${r.faultedAttempts} faulted attempts, ${r.kernelSteps} kernel steps); compared ${r.compared};` +
        ` RFLAGS with masked undefined flags ${r.maskedFlags}; known differences: ${masked}`);
      expect(r.divergence).toBeUndefined();
      expect(r.mismatches).toEqual([]);
      expect(r.userSteps).toBe(native.steps);
      expect(r.compared).toBe(native.steps); // every record, the entry state included
      expect(r.stdout).toBe(native.stdout.toString('latin1'));
      expect(native.exit).toEqual({ kind: 'exit', value: r.status });
      for (const rule of knownDifferences(0n, 0n)) expect(r.masked.get(rule.name) ?? 0).toBeLessThanOrEqual(rule.maxUses);
    });
  }
});
