// Processor exceptions as values. A handler that faults throws a Fault; the run loop catches it, rolls RIP
// back to the faulting instruction and delivers the exception through the IDT (or to the hypervisor).

/** Exception vectors (Intel SDM vol. 3A, table 6-1). */
export const enum Vector {
  DE = 0, DB = 1, NMI = 2, BP = 3, OF = 4, BR = 5, UD = 6, NM = 7, DF = 8,
  TS = 10, NP = 11, SS = 12, GP = 13, PF = 14, MF = 16, AC = 17, MC = 18, XM = 19,
}

/** Short names of the vectors, for diagnostics. */
export const VECTOR_NAMES: Readonly<Record<number, string>> = {
  0: '#DE', 1: '#DB', 2: 'NMI', 3: '#BP', 4: '#OF', 5: '#BR', 6: '#UD', 7: '#NM', 8: '#DF',
  10: '#TS', 11: '#NP', 12: '#SS', 13: '#GP', 14: '#PF', 16: '#MF', 17: '#AC', 18: '#MC', 19: '#XM',
};

/** Vectors that push an error code (SDM 6.13). */
export function hasErrorCode(vector: number): boolean {
  return vector === 8 || (vector >= 10 && vector <= 14) || vector === 17 || vector === 21;
}

/** A processor exception raised while executing an instruction. */
export class Fault {
  constructor(
    /** Exception vector. */
    readonly vector: number,
    /** Error code pushed by delivery (ignored for vectors without one). */
    readonly errorCode: number = 0,
    /** For #PF: the faulting linear address, lo half. */
    readonly cr2Lo: number = 0,
    /** For #PF: the faulting linear address, hi half. */
    readonly cr2Hi: number = 0,
    /** Human-readable detail (for #UD: the unimplemented instruction). */
    readonly detail: string = '',
  ) {}

  toString(): string {
    const name = VECTOR_NAMES[this.vector] ?? `vector ${this.vector}`;
    return `${name}${hasErrorCode(this.vector) ? `(${this.errorCode})` : ''}${this.detail ? `: ${this.detail}` : ''}`;
  }
}

/** Raise #GP(code). */
export function gp(code = 0, detail = ''): never {
  throw new Fault(Vector.GP, code, 0, 0, detail);
}

/** Raise #UD. */
export function ud(detail = ''): never {
  throw new Fault(Vector.UD, 0, 0, 0, detail);
}
