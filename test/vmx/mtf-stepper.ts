// Drives a guest machine under the monitor trap flag, one VM entry per step, and hands every step to a callback:
// the RIP and CPL it started from and how it ended (an MTF exit, a serviced VMCALL, a delivered fault).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Off } from '../../src/cpu/state.js';
import { GuestMachine, MachineOptions, ServiceOutcome } from '../../src/guest/machine.js';
import { DEFAULT_ENV } from '../../src/guest/run-program.js';
import { ExitReason } from '../../src/vmx/exit-reason.js';

/** One step as the hypervisor saw it. */
export interface Step {
  /** 0-based index of the step. */
  seq: number;
  /** RIP before the step. */
  rip: bigint;
  /** CPL before the step. */
  cpl: number;
  /** The exit that ended it: MONITOR_TRAP_FLAG or VMCALL (serviced, then the VMCALL completed). */
  reason: ExitReason;
  /** The step's instruction faulted: the exception was delivered and the machine now is at its handler. */
  faulted: boolean;
}

/** A 64-bit value of the state buffer. */
export function stateU64(m: GuestMachine, off: number): bigint {
  return (BigInt(m.cpu.r[(off >> 2) + 1]!) << 32n) | BigInt(m.cpu.r[off >> 2]!);
}

/** GPR n (encoding order). */
export function gpr(m: GuestMachine, n: number): bigint {
  return stateU64(m, Off.GPR + n * 8);
}

/** RIP. */
export function rip(m: GuestMachine): bigint {
  return stateU64(m, Off.RIP);
}

/** Builds a machine for a sample the way run-program.ts does (DEFAULT_ENV, absolute path), without a root. */
export function sampleMachine(name: string, extra: Partial<MachineOptions> = {}): GuestMachine {
  const path = resolve('guests/bin', name);
  const m = GuestMachine.create({ image: new Uint8Array(readFileSync(path)), execPath: path, args: [], env: DEFAULT_ENV, ...extra });
  if ('error' in m) throw new Error(m.error);
  return m;
}

/** What a stepped run returns: how it ended and how many steps it took. */
export interface SteppedRun {
  outcome: ServiceOutcome;
  steps: number;
}

/**
 * Runs `m` with MTF on until the program ends (or `onStep` returns 'stop', or `maxSteps` steps). `onStep` is
 * called after every step, with the machine in the state after it.
 */
export function runStepped(m: GuestMachine, onStep: (s: Step) => void | 'stop', maxSteps = 50_000_000): SteppedRun {
  const vm = m.vm;
  vm.vmcs.controls.monitorTrapFlag = true;
  let seq = 0;
  let before = rip(m), cpl = m.cpu.cpl;
  while (seq < maxSteps) {
    const reason = vm.enter();
    let outcome: ServiceOutcome = { kind: 'continue' };
    if (reason === ExitReason.MONITOR_TRAP_FLAG) {
      // nothing to service
    } else if (reason === ExitReason.VMCALL) {
      outcome = m.service();
    } else {
      return { outcome: m.service(), steps: seq };
    }
    if (outcome.kind !== 'continue') return { outcome, steps: seq }; // exit_group: the VMCALL never completes
    const s: Step = { seq, rip: before, cpl, reason, faulted: reason === ExitReason.MONITOR_TRAP_FLAG && m.cpu.lastFault !== null };
    seq++;
    before = rip(m); cpl = m.cpu.cpl;
    if (onStep(s) === 'stop') return { outcome, steps: seq };
  }
  return { outcome: { kind: 'error', message: `stopped after ${maxSteps} steps` }, steps: seq };
}

/**
 * Reads guest linear memory through the current page tables without side effects (no demand paging, no TLB
 * fill, no accessed bits): undefined if a page is not present.
 */
export function peek(m: GuestMachine, addr: bigint, n: number): Uint8Array | undefined {
  const out = new Uint8Array(n);
  const dv = m.mem.dv;
  const cr3 = Number(stateU64(m, Off.CR3) & 0xffffffffff000n);
  for (let i = 0; i < n; i++) {
    const va = BigInt.asUintN(64, addr + BigInt(i));
    let table = cr3, phys = -1;
    for (let level = 0; level < 4; level++) {
      const e = dv.getBigUint64(table + Number((va >> BigInt(39 - 9 * level)) & 0x1ffn) * 8, true);
      if (!(e & 1n)) return undefined;
      const frame = Number(e & 0xffffffffff000n);
      const large = level > 0 && level < 3 && (e & 0x80n) !== 0n;
      if (large) {
        const size = 1n << BigInt(39 - 9 * level); // 1 GiB (PDPTE) or 2 MiB (PDE) page
        phys = Number((BigInt(frame) & ~(size - 1n)) + (va & (size - 1n)));
        break;
      }
      if (level === 3) phys = frame + Number(va & 0xfffn);
      else table = frame;
    }
    out[i] = m.mem.bytes[phys]!;
  }
  return out;
}

/** A minimal static ELF64 executable (ET_EXEC): one R+X PT_LOAD at 0x400000 holding the headers and `code`. */
export function tinyElf(code: Uint8Array): Uint8Array {
  const codeOff = 64 + 56, size = codeOff + code.length;
  const b = new Uint8Array(size);
  const dv = new DataView(b.buffer);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]); // ELFCLASS64, little-endian, version 1, SysV ABI
  dv.setUint16(16, 2, true); // ET_EXEC
  dv.setUint16(18, 62, true); // EM_X86_64
  dv.setUint32(20, 1, true);
  dv.setBigUint64(24, 0x400000n + BigInt(codeOff), true); // e_entry
  dv.setBigUint64(32, 64n, true); // e_phoff
  dv.setUint16(52, 64, true); // e_ehsize
  dv.setUint16(54, 56, true); // e_phentsize
  dv.setUint16(56, 1, true); // e_phnum
  dv.setUint16(58, 64, true); // e_shentsize
  dv.setUint32(64, 1, true); // PT_LOAD
  dv.setUint32(68, 5, true); // PF_R | PF_X
  dv.setBigUint64(72, 0n, true); // p_offset
  dv.setBigUint64(80, 0x400000n, true); // p_vaddr
  dv.setBigUint64(88, 0x400000n, true); // p_paddr
  dv.setBigUint64(96, BigInt(size), true); // p_filesz
  dv.setBigUint64(104, BigInt(size), true); // p_memsz
  dv.setBigUint64(112, 0x1000n, true); // p_align
  b.set(code, codeOff);
  return b;
}
