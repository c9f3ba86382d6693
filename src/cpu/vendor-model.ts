// The one CPU model the emulated processor follows, and every place where x86-64 processors of different
// vendors (or the manuals) disagree. The processor reads its choices from VENDOR_TABLE; the differential
// tests read the same table to know which generated cases the host CPU cannot judge and how to judge them
// against the model's documented result instead (test/differential/vendor-judge.ts).
import { Code } from 'iced-x86';

/** A processor vendor as CPUID leaf 0 names it. */
export type Vendor = 'intel' | 'amd';

/** The emulated processor: what CPUID reports and whose manual decides where vendors differ. */
export const CPU_MODEL = {
  /** Whose documented behaviour the model follows. */
  vendor: 'intel' as Vendor,
  /** CPUID leaf 0 vendor string (EBX, EDX, ECX). */
  vendorString: 'GenuineIntel',
  /** CPUID leaf 1 EAX: family 15, model 6, stepping 1 (a plain x86-64 part, like QEMU's kvm64 model). */
  signature: 0x00000f61,
  /** CPUID leaves 0x80000002..4 brand string. */
  brand: 'itrace virtual x86-64',
} as const;

/** The vendor string CPUID leaf 0 returns on a processor of each vendor. */
export const VENDOR_STRINGS: Readonly<Record<Vendor, string>> = { intel: 'GenuineIntel', amd: 'AuthenticAMD' };

/** One behaviour where vendors, or a manual's "undefined", leave a choice. */
export interface VendorBehaviour<Choice extends string = string> {
  /** What the instruction does that is in question. */
  readonly what: string;
  /** The model's choice, which the processor implements. */
  readonly model: Choice;
  /** What the choice means, in words. */
  readonly modelMeans: string;
  /** What processors of each vendor do (documented, or measured where the manuals are silent). */
  readonly hardware: Readonly<Record<Vendor, string>>;
  /**
   * Whether a host of that vendor computes what the model computes for every affected case; 'unverified'
   * when no host of the vendor has been measured (the differential tests then judge as for `false`).
   */
  readonly hostMatchesModel: Readonly<Record<Vendor, boolean | 'unverified'>>;
  /** Manual references (Intel SDM, AMD APM) and other sources for the facts above. */
  readonly reference: string;
  /** The iced Codes the behaviour concerns (some only with particular operands or state, see `what`). */
  readonly codes: () => readonly Code[];
}

const codesNamed = (re: RegExp): Code[] =>
  Object.entries(Code).filter(([n, v]) => typeof v === 'number' && re.test(n)).map(([, v]) => v as Code);

/** Every vendor-dependent or manual-undefined behaviour of the model; keyed by a stable id. */
export const VENDOR_TABLE = {
  repA32ZeroCount: {
    what: 'a REP/REPE/REPNE string instruction with a 67h (32-bit address size) prefix and ECX = 0',
    model: 'no-write' as 'no-write' | 'intel-hardware',
    modelMeans: 'no iteration and no register write: RCX, RSI and RDI keep their upper halves, RFLAGS is unchanged',
    hardware: {
      intel: 'clears the upper half of RCX, and on recent parts of RSI/RDI for MOVS/STOS (undocumented)',
      amd: 'no register is written',
    },
    hostMatchesModel: { intel: false, amd: true },
    reference: 'Intel SDM vol. 2B "REP/REPE/REPZ/REPNE/REPNZ" Operation (WHILE CountReg != 0 ... OD: a zero count ' +
      'executes nothing); AMD APM vol. 3 "REP"; the Intel zero-extension is undocumented (Linux KVM commit ' +
      '428e3d08574b "KVM: x86: Fix zero iterations REP-string" describes it as measured behaviour)',
    codes: () => codesNamed(/^(Movs|Cmps|Scas|Lods|Stos)[bwdq]_/),
  } satisfies VendorBehaviour<'no-write' | 'intel-hardware'>,
  reservedNop0F0DRegister: {
    what: '0F 0D /r with a register operand (the reserved-NOP / PREFETCH group)',
    model: 'nop' as 'nop' | 'ud',
    modelMeans: 'executes as a NOP of its length',
    hardware: {
      intel: 'NOP (0F 0D is in the reserved-NOP hint space; only the memory form /1 is PREFETCHW)',
      amd: '#UD (0F 0D is the PREFETCH/PREFETCHW group, memory operands only)',
    },
    hostMatchesModel: { intel: true, amd: false },
    reference: 'Intel SDM vol. 2D appendix A, table A-3 (0F 0D: NOP Ev; prefetchw(/1)); AMD APM vol. 3 ' +
      '"PREFETCH/PREFETCHW" (a register operand raises #UD)',
    codes: () => [Code.Reservednop_rm16_r16_0F0D, Code.Reservednop_rm32_r32_0F0D, Code.Reservednop_rm64_r64_0F0D],
  } satisfies VendorBehaviour<'nop' | 'ud'>,
  shiftDouble16LargeCount: {
    what: 'SHLD/SHRD with a 16-bit operand and a masked count of 17..31',
    model: 'aba-48',
    modelMeans: 'shifts the 48-bit value dest:src:dest (SHLD: left, result = its top 16 bits; SHRD: right, result = ' +
      'its low 16 bits); the status flags are undefined (the result is what the SDM leaves undefined)',
    hardware: {
      intel: 'shifts dest:src:dest (QEMU models this as the Intel behaviour; not verified on Intel hardware here)',
      amd: 'a different result (measured on an AMD EPYC host)',
    },
    hostMatchesModel: { intel: 'unverified', amd: false },
    reference: 'Intel SDM vol. 2B "SHLD" / "SHRD": "If the count is greater than the operand size, the result is ' +
      'undefined" and the flags are undefined; QEMU target/i386 implements dest:src:dest as the Intel behaviour',
    codes: () => codesNamed(/^Sh[lr]d_rm16_r16_(CL|imm8)$/),
  } satisfies VendorBehaviour<'aba-48'>,
  repCondFaultFlags: {
    what: 'RFLAGS when a fault interrupts a REPE/REPNE CMPS or SCAS after some iterations',
    model: 'restore' as 'restore' | 'last-iteration',
    modelMeans: 'RFLAGS as before the instruction (RCX, RSI and RDI reflect the completed iterations)',
    hardware: {
      intel: 'RFLAGS as before the instruction',
      amd: 'RFLAGS of the last completed iteration (measured on an AMD EPYC host)',
    },
    hostMatchesModel: { intel: true, amd: false },
    reference: 'Intel SDM vol. 2B "REP/REPE/REPZ/REPNE/REPNZ": "When a fault occurs during the execution of a ' +
      'CMPS or SCAS instruction that is prefixed with REPE or REPNE, the EFLAGS value is restored to the state ' +
      'prior to the execution of the instruction"',
    codes: () => codesNamed(/^(Cmps|Scas)[bwdq]_/),
  } satisfies VendorBehaviour<'restore' | 'last-iteration'>,
} as const;

/** The id of one entry of VENDOR_TABLE. */
export type VendorBehaviourId = keyof typeof VENDOR_TABLE;

/** The ids of every entry, in table order. */
export const VENDOR_BEHAVIOUR_IDS = Object.keys(VENDOR_TABLE) as VendorBehaviourId[];

/** The vendor named by a CPUID vendor string, or null for any other vendor. */
export function vendorOf(vendorString: string): Vendor | null {
  for (const [v, s] of Object.entries(VENDOR_STRINGS)) if (s === vendorString) return v as Vendor;
  return null;
}
