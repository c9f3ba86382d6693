// The hypervisor's run loop: VM entry (with optional event injection), guest execution until a VM exit,
// and the monitor trap flag, which makes every step (instruction, REP iteration, delivered fault) an exit.
import { Cpu, RunStatus, StepHook } from '../cpu/cpu.js';
import { deliverEvent } from '../cpu/deliver.js';
import type { Fault } from '../cpu/fault.js';
import type { StepLog } from '../cpu/step-log.js';
import { Off } from '../cpu/state.js';
import { ExitReason } from './exit-reason.js';
import { Vmcs } from './vmcs.js';

/** A virtual machine: one processor under one VMCS. */
export class Vm {
  /** The guest processor (its state buffer is the VMCS guest-state area). */
  readonly cpu: Cpu;
  /** Controls, injection and exit information. */
  readonly vmcs = new Vmcs();
  /** Exits taken, by reason number. */
  readonly exitCounts = new Map<number, number>();
  /**
   * Handler of MONITOR_TRAP_FLAG exits run inside the processor loop (a recorder's): with it, enter() returns
   * only for the other exits, and each step is delivered to it instead.
   */
  mtfHandler: StepHook | null = null;
  /**
   * The recorder behind mtfHandler, if it can log steps of hot blocks itself (then those steps reach it without
   * a call to mtfHandler; the exits are still counted).
   */
  mtfLog: StepLog | null = null;
  /** MONITOR_TRAP_FLAG exits delivered to mtfHandler (or logged by mtfLog). */
  mtfExits = 0;

  constructor(cpu: Cpu) {
    this.cpu = cpu;
  }

  /**
   * VM entry: run the guest until a VM exit and return its basic reason (also in vmcs.exit). `maxSteps`
   * plays the VMX-preemption timer: when it runs out, the exit is PREEMPTION_TIMER.
   */
  enter(maxSteps = Number.MAX_SAFE_INTEGER): ExitReason {
    const cpu = this.cpu, c = this.vmcs.controls, x = this.vmcs.exit;
    const cc = cpu.controls;
    cc.exceptionBitmap = c.exceptionBitmap;
    cc.cpuidExiting = c.cpuidExiting;
    cc.rdtscExiting = c.rdtscExiting;
    cc.hltExiting = c.hltExiting;
    cc.vmcallExits = true;
    cpu.singleIteration = c.monitorTrapFlag;
    cpu.stopOnFault = c.monitorTrapFlag && this.mtfHandler === null;
    x.interruptionVector = -1; x.qualification = 0; x.instructionLength = 0;
    cpu.lastFault = null;
    const inj = this.vmcs.injection;
    if (inj !== null) {
      this.vmcs.injection = null;
      deliverEvent(cpu, inj.vector, inj.errorCode, inj.type === 4 || inj.type === 6);
      // SDM: with the monitor trap flag, the MTF exit comes before the handler's first instruction
      if (c.monitorTrapFlag) return this.exitWith(ExitReason.MONITOR_TRAP_FLAG);
    }
    const handler = this.mtfHandler;
    let st: RunStatus;
    if (c.monitorTrapFlag && handler !== null) {
      const before = cpu.icount;
      st = cpu.runStepped(maxSteps, handler, this.mtfLog);
      this.mtfExits += cpu.icount - before;
    } else {
      st = cpu.run(c.monitorTrapFlag ? 1 : maxSteps);
    }
    switch (st) {
      case RunStatus.EXIT: {
        const reason = cpu.exit.reason;
        x.qualification = cpu.exit.qualification; x.instructionLength = cpu.exit.instructionLength;
        if (reason === ExitReason.EXCEPTION_OR_NMI) {
          const f = cpu.lastFault as Fault | null;
          x.interruptionVector = f?.vector ?? -1;
          x.interruptionErrorCode = f?.errorCode ?? 0;
          x.guestLinearAddress = f ? (BigInt(f.cr2Hi) << 32n) | BigInt(f.cr2Lo) : 0n;
        }
        return this.exitWith(reason);
      }
      case RunStatus.TRIPLE_FAULT: return this.exitWith(ExitReason.TRIPLE_FAULT);
      case RunStatus.HALT:
        // HLT without HLT exiting: the guest waits for an interrupt; nothing else can wake it in this model
        if (!c.monitorTrapFlag || this.mtfHandler !== null) return this.exitWith(ExitReason.HLT);
        return this.exitWith(ExitReason.MONITOR_TRAP_FLAG);
      case RunStatus.FAULT: // MTF after delivery of a fault
      case RunStatus.BUDGET:
      default:
        return this.exitWith(c.monitorTrapFlag && handler === null ? ExitReason.MONITOR_TRAP_FLAG : ExitReason.PREEMPTION_TIMER);
    }
  }

  /** Resume after an instruction-caused exit: advance RIP past the instruction (what a VMM does with VMRESUME). */
  skipInstruction(): void {
    const r = this.cpu.r, len = this.vmcs.exit.instructionLength;
    const lo = r[Off.RIP >> 2]!, nlo = (lo + len) >>> 0;
    r[Off.RIP >> 2] = nlo;
    if (nlo < lo) r[(Off.RIP >> 2) + 1] = (r[(Off.RIP >> 2) + 1]! + 1) >>> 0;
    this.cpu.icount++; // the exiting instruction has now completed
  }

  private exitWith(reason: ExitReason): ExitReason {
    this.vmcs.exit.reason = reason;
    this.exitCounts.set(reason, (this.exitCounts.get(reason) ?? 0) + 1);
    return reason;
  }
}
