// A small assembler over iced-x86's encoder: routines are lists of iced Instructions with local labels,
// encoded by BlockEncoder at their final address (no external assembler is needed).
import { BlockEncoder, BlockEncoderOptions, Code, Instruction, MemoryOperand, Register } from 'iced-x86';

/** One routine being assembled. */
export class Routine {
  /** Symbol name of the routine. */
  readonly name: string;
  private readonly insns: Instruction[] = [];
  private readonly labels = new Map<string, bigint>();
  private readonly pending: { label: string; code: Code; index: number }[] = [];
  private nextId = 1n;

  constructor(name: string) {
    this.name = name;
  }

  /** Instructions emitted so far. */
  get length(): number {
    return this.insns.length;
  }

  /** Append an instruction. */
  emit(i: Instruction): this {
    i.ip = this.nextId++;
    this.insns.push(i);
    return this;
  }

  /** Bind a label to the next instruction emitted. */
  label(name: string): this {
    this.labels.set(name, this.nextId);
    return this;
  }

  /** Append a branch to a label (resolved at encoding). */
  branch(code: Code, label: string): this {
    this.pending.push({ label, code, index: this.insns.length });
    return this.emit(Instruction.createBranch(code, 0n));
  }

  /** Encode at `rip`, returning the bytes. */
  encode(rip: bigint): Uint8Array {
    for (const p of this.pending) {
      const target = this.labels.get(p.label);
      if (target === undefined) throw new Error(`${this.name}: undefined label ${p.label}`);
      const ins = Instruction.createBranch(p.code, target);
      ins.ip = this.insns[p.index]!.ip;
      this.insns[p.index]!.free();
      this.insns[p.index] = ins;
    }
    const enc = new BlockEncoder(64, BlockEncoderOptions.None);
    try {
      for (const i of this.insns) enc.add(i);
      return enc.encode(rip);
    } finally {
      enc.free();
      for (const i of this.insns) i.free();
      this.insns.length = 0;
    }
  }
}

/** [base + disp] with an optional segment override (FS/GS). */
export function mem(base: Register, disp = 0, seg: Register = Register.None): MemoryOperand {
  return new MemoryOperand(base, Register.None, 1, BigInt(disp), disp === 0 ? 0 : disp >= -128 && disp < 128 ? 1 : 8, false, seg);
}

/** An absolute [disp32] operand (used with GS for per-CPU fields). */
export function abs(disp: number, seg: Register = Register.None): MemoryOperand {
  return new MemoryOperand(Register.None, Register.None, 1, BigInt(disp), 4, false, seg);
}

export { Code, Instruction, MemoryOperand, Register };
