// The architectural state of one x86-64 processor as plain data at fixed byte offsets in one buffer.
// A checkpoint is a copy of this buffer; a replay check is a compare of two of them.
// 64-bit values are stored little-endian as two 32-bit halves (lo at the offset, hi at offset + 4).

/** General-purpose register numbers in encoding order (the ModRM/REX numbering). */
export const enum Gpr {
  RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7,
  R8 = 8, R9 = 9, R10 = 10, R11 = 11, R12 = 12, R13 = 13, R14 = 14, R15 = 15,
}

/** Segment register numbers in encoding order. */
export const enum Seg { ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5 }

/** Byte offsets of every state field in the state buffer. */
export const enum Off {
  GPR = 0, // 16 x u64: RAX..R15, encoding order
  RIP = 128, // u64: address of the next instruction to execute
  RFLAGS = 136, // u32 (hi half zero): architectural RFLAGS; OSZAPC bits are stale while LAZY_OP != 0
  LAZY_OP = 144, // u32: FlagOp of the last flag-setting operation whose OSZAPC are not yet materialised (0 = none)
  LAZY_SIZE = 148, // u32: operand size in bits (8/16/32/64) of that operation
  LAZY_RES = 152, // u64: its result, truncated to LAZY_SIZE
  LAZY_DST = 160, // u64: its first (destination) operand before the operation
  LAZY_SRC = 168, // u64: its second (source) operand
  LAZY_CIN = 176, // u32: carry-in for ADC/SBB (0/1)
  SEL = 180, // 6 x u32: segment selectors ES CS SS DS FS GS
  FS_BASE = 208, // u64: IA32_FS_BASE
  GS_BASE = 216, // u64: IA32_GS_BASE
  KERNEL_GS_BASE = 224, // u64: IA32_KERNEL_GS_BASE (swapped in by SWAPGS)
  CR0 = 232, // u64: control register 0 (PE, WP, PG, ...)
  CR2 = 240, // u64: page-fault linear address
  CR3 = 248, // u64: page-map level-4 physical base
  CR4 = 256, // u64: control register 4 (PAE, OSFXSR, ...)
  EFER = 264, // u64: IA32_EFER (SCE, LME, LMA, NXE)
  STAR = 272, // u64: IA32_STAR (SYSCALL/SYSRET selectors)
  LSTAR = 280, // u64: IA32_LSTAR (64-bit SYSCALL entry point)
  CSTAR = 288, // u64: IA32_CSTAR (compatibility-mode SYSCALL entry, unused)
  SFMASK = 296, // u64: IA32_FMASK (RFLAGS bits cleared by SYSCALL)
  TSC = 304, // u64: time-stamp counter (advanced by the VMM; read by RDTSC)
  TSC_AUX = 312, // u64: IA32_TSC_AUX (returned in ECX by RDTSCP)
  GDTR_BASE = 320, // u64: GDT linear base
  GDTR_LIMIT = 328, // u32: GDT limit
  IDTR_LIMIT = 332, // u32: IDT limit
  IDTR_BASE = 336, // u64: IDT linear base
  TR_BASE = 344, // u64: TSS linear base (loaded by LTR)
  TR_SEL = 352, // u32: task register selector
  TR_LIMIT = 356, // u32: TSS limit
  CPL = 360, // u32: current privilege level (0 or 3)
  MXCSR = 364, // u32: SSE control/status register
  FCW = 368, // u32: x87 control word (low 16 bits)
  FSW = 372, // u32: x87 status word without TOP (low 16 bits; TOP lives in FTOP)
  FTOP = 376, // u32: x87 stack top (0..7)
  FTAG = 380, // u32: x87 tag bits, 2 per physical register (00 valid, 01 zero, 10 special, 11 empty)
  FOP = 384, // u32: x87 last opcode
  HALTED = 388, // u32: 1 after HLT until an interrupt is delivered
  INT_SHADOW = 392, // u32: 1 for the instruction after STI/MOV SS (interrupts blocked)
  PDPTE_PAD = 396, // u32: reserved
  FIP = 400, // u64: x87 last instruction pointer
  FDP = 408, // u64: x87 last data pointer
  ST = 416, // 8 x 16 bytes: x87 physical registers R0..R7, each mantissa u64 + sign/exponent u16 + 6 pad
  XMM = 544, // 16 x 16 bytes: XMM0..XMM15
  PAT = 800, // u64: IA32_PAT
  CR8 = 808, // u32: task-priority register (CR8)
  XCR0 = 816, // u64: extended control register 0 (XSETBV): bit 0 x87, 1 SSE, 2 AVX (YMM upper halves) enabled
  YMMH = 824, // 16 x 16 bytes: bits 255:128 of YMM0..YMM15 (bits 127:0 are XMM0..XMM15)
  SIZE = 1080, // total bytes
}

/** RFLAGS bit masks (architectural positions). */
export const enum Fl {
  CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, TF = 0x100, IF = 0x200, DF = 0x400, OF = 0x800,
  IOPL = 0x3000, NT = 0x4000, RF = 0x10000, VM = 0x20000, AC = 0x40000, VIF = 0x80000, VIP = 0x100000, ID = 0x200000,
  /** The six arithmetic status flags. */
  OSZAPC = 0x8d5,
  /** Bit 1 always reads as 1. */
  FIXED = 0x2,
}

/** Index into a Uint32Array view of the state for the lo half of a GPR. */
export const gprLo = (r: number): number => r << 1;
/** Index into a Uint32Array view of the state for the hi half of a GPR. */
export const gprHi = (r: number): number => (r << 1) | 1;

/** Typed-array views over one state buffer. All views alias the same bytes, as hardware registers do. */
export class CpuState {
  /** The state bytes. */
  readonly buf: ArrayBuffer;
  /** 32-bit view: index = byte offset / 4. */
  readonly u32: Uint32Array;
  /** Signed 32-bit view over the same bytes. */
  readonly i32: Int32Array;
  /** 16-bit view: index = byte offset / 2. */
  readonly u16: Uint16Array;
  /** Byte view. */
  readonly u8: Uint8Array;
  /** float64 view: index = byte offset / 8 (XMM lanes, scalar doubles). */
  readonly f64: Float64Array;
  /** float32 view: index = byte offset / 4. */
  readonly f32: Float32Array;
  /** DataView for unaligned or mixed access. */
  readonly dv: DataView;

  constructor(buf: ArrayBuffer = new ArrayBuffer(Off.SIZE)) {
    this.buf = buf;
    this.u32 = new Uint32Array(buf);
    this.i32 = new Int32Array(buf);
    this.u16 = new Uint16Array(buf);
    this.u8 = new Uint8Array(buf);
    this.f64 = new Float64Array(buf);
    this.f32 = new Float32Array(buf);
    this.dv = new DataView(buf);
  }

  /** A copy of the state bytes (for checkpoints and comparisons). */
  snapshot(): Uint8Array {
    return this.u8.slice();
  }

  /** Overwrite the state from a snapshot. */
  restore(bytes: Uint8Array): void {
    this.u8.set(bytes.subarray(0, Off.SIZE));
    // a shorter snapshot (a trace written before XCR0 and the YMM upper halves existed) had them at reset values
    if (bytes.length < Off.SIZE) { this.u8.fill(0, bytes.length); if (bytes.length <= Off.XCR0) this.u32[Off.XCR0 >> 2] = 1; }
  }
}
