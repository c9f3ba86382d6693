// A VMCS-like record: the guest-state area is the processor's state buffer itself; this object holds the
// VM-execution controls, the VM-entry event-injection field and the VM-exit information fields.

/** VM-execution controls the model implements. */
export interface ExecutionControls {
  /** Primary processor-based control "monitor trap flag": an exit after every step. */
  monitorTrapFlag: boolean;
  /** Exception bitmap: bit n set makes exception vector n exit instead of being delivered. */
  exceptionBitmap: number;
  /** "CPUID exiting" (always on in real VMX; optional here so the processor's own CPUID can be used). */
  cpuidExiting: boolean;
  /** "RDTSC exiting". */
  rdtscExiting: boolean;
  /** "HLT exiting". */
  hltExiting: boolean;
  /** "Unconditional I/O exiting". */
  ioExiting: boolean;
}

/** Event to inject on the next VM entry (SDM 24.8.3, VM-entry interruption-information field). */
export interface EntryInjection {
  /** Vector of the event. */
  vector: number;
  /** Interruption type: 0 external interrupt, 3 hardware exception, 4 software interrupt, 6 software exception. */
  type: number;
  /** Error code to push, if the event has one. */
  errorCode?: number;
}

/** VM-exit information fields (SDM 24.9). */
export interface ExitInformation {
  /** Basic exit reason. */
  reason: number;
  /** Exit qualification (for exceptions: the vector here; for I/O: the SDM's encoding; for #PF exits CR2 is in `guestLinearAddress`). */
  qualification: number;
  /** VM-exit instruction length, for instruction-caused exits. */
  instructionLength: number;
  /** VM-exit interruption information: vector of the exception that caused an EXCEPTION_OR_NMI exit, or -1. */
  interruptionVector: number;
  /** VM-exit interruption error code. */
  interruptionErrorCode: number;
  /** Guest linear address (for #PF: the faulting address), as bigint at this edge. */
  guestLinearAddress: bigint;
}

/** The VMCS of one virtual processor. */
export class Vmcs {
  /** Execution controls. */
  readonly controls: ExecutionControls = {
    monitorTrapFlag: false, exceptionBitmap: 0, cpuidExiting: false, rdtscExiting: false, hltExiting: true, ioExiting: true,
  };
  /** Event to inject at the next entry, or null. */
  injection: EntryInjection | null = null;
  /** Information about the last exit. */
  readonly exit: ExitInformation = {
    reason: -1, qualification: 0, instructionLength: 0, interruptionVector: -1, interruptionErrorCode: 0, guestLinearAddress: 0n,
  };
}
