// One side of a diff: the opened trace, its symbols, its hot tables with batch access, and its code table
// (instruction bytes by code id), read once.
import { readTraceSymbols, SymbolTable } from '../trace/symbols.js';
import { TraceReader } from '../trace/trace-reader.js';
import { TableRows } from './table-rows.js';

/** insns.code of a step whose instruction fetch faulted. */
export const NO_CODE = 0xffffffff;

/** An opened side. */
export class TraceSide {
  readonly reader: TraceReader;
  readonly symbols: SymbolTable;
  readonly insns: TableRows;
  readonly regs: TableRows;
  readonly mem: TableRows;
  /** code id → rip. */
  readonly codeRip: bigint[];
  /** code id → instruction bytes. */
  readonly codeBytes: Uint8Array[];

  private constructor(reader: TraceReader) {
    this.reader = reader;
    this.symbols = readTraceSymbols(reader.dir);
    this.insns = new TableRows(reader.dir, 'insns');
    this.regs = new TableRows(reader.dir, 'regs');
    this.mem = new TableRows(reader.dir, 'mem');
    const code = reader.readTable('code').columns;
    this.codeRip = Array.from(code.u64('rip'));
    this.codeBytes = [...code.bytes('bytes')];
  }

  /** Open a trace directory; a one-line error if it is not a readable trace. */
  static open(dir: string): TraceSide | { error: string } {
    const r = TraceReader.open(dir);
    if ('error' in r) return r;
    const code = r.readTable('code');
    if (code.error !== undefined) return { error: code.error };
    return new TraceSide(r);
  }

  /** Steps in the trace. */
  get steps(): number {
    return this.insns.rows;
  }

  /** The step's rip, cpl, code id and instruction bytes. */
  step(seq: number): { rip: bigint; cpl: number; code: number; bytes: Uint8Array; faulted: boolean } {
    const a = this.insns.at(seq), c = a.cols;
    const w = c.words('rip');
    const code = c.ints('code')[a.i]!;
    return {
      rip: BigInt(w[2 * a.i]!) | (BigInt(w[2 * a.i + 1]!) << 32n),
      cpl: c.ints('cpl')[a.i]!,
      code,
      bytes: code === NO_CODE ? new Uint8Array(0) : this.codeBytes[code]!,
      faulted: c.ints('faulted')[a.i]! === 1,
    };
  }

  /** Release files. */
  closeSync(): void {
    this.insns.closeSync();
    this.regs.closeSync();
    this.mem.closeSync();
  }
}
