// Basic VM-exit reasons used by the model, with the Intel SDM's numbers (vol. 3D, appendix C).

/** VM-exit reason numbers. */
export const enum ExitReason {
  EXCEPTION_OR_NMI = 0,
  EXTERNAL_INTERRUPT = 1,
  TRIPLE_FAULT = 2,
  CPUID = 10,
  HLT = 12,
  RDTSC = 16,
  VMCALL = 18,
  IO_INSTRUCTION = 30,
  MONITOR_TRAP_FLAG = 37,
  RDTSCP = 51,
  PREEMPTION_TIMER = 52,
}

/** SDM names of the exit reasons, for display. */
export const EXIT_REASON_NAMES: Readonly<Record<number, string>> = {
  0: 'EXCEPTION_OR_NMI', 1: 'EXTERNAL_INTERRUPT', 2: 'TRIPLE_FAULT', 10: 'CPUID', 12: 'HLT', 16: 'RDTSC',
  18: 'VMCALL', 30: 'IO_INSTRUCTION', 37: 'MONITOR_TRAP_FLAG', 51: 'RDTSCP', 52: 'PREEMPTION_TIMER',
};
