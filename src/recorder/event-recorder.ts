// Rows of the rare tables: events (ring switches, exceptions, page faults, VM exits, the end), syscalls
// (entry and return steps, arguments, result) and inputs (nondeterministic values the guest received).
import { Code } from 'iced-x86';
import { syscallName } from '../guest/linux/syscall-table.js';
import { TableBuffer } from '../trace/table-buffer.js';
import type { TableSink } from './step-recorder.js';

/** Counters for the summary. */
export interface EventCounts {
  /** Ring switches (syscall, sysret, exception/interrupt delivery to another ring, iret to another ring). */
  ringSwitches: number;
  /** Page faults taken. */
  pageFaults: number;
  /** System calls entered. */
  syscalls: number;
}

interface OpenSyscall {
  entrySeq: number;
  number: number;
  args: bigint[];
  result: bigint | undefined;
}

/** Collects the rare rows. */
export class EventRecorder {
  /** Buffered events. */
  readonly events = new TableBuffer('events', 4096);
  /** Buffered system calls. */
  readonly syscalls = new TableBuffer('syscalls', 4096);
  /** Buffered inputs. */
  readonly inputs = new TableBuffer('inputs', 1024);
  /** Counters. */
  readonly counts: EventCounts = { ringSwitches: 0, pageFaults: 0, syscalls: 0 };
  private readonly sink: TableSink;
  private open: OpenSyscall | null = null;

  constructor(sink: TableSink) {
    this.sink = sink;
  }

  private add(buf: TableBuffer, row: (bigint | number | string | Uint8Array)[]): void {
    buf.push(row);
    if (buf.full) this.sink(buf);
  }

  /** An event row. */
  event(seq: number, kind: string, vector: number, errorCode: number, cr2: bigint, fromCpl: number, toCpl: number, fromRip: bigint, toRip: bigint): void {
    if (fromCpl !== toCpl) this.counts.ringSwitches++;
    if (kind === 'page_fault') this.counts.pageFaults++;
    this.add(this.events, [seq, kind, vector, errorCode >>> 0, cr2, fromCpl, toCpl, fromRip, toRip]);
  }

  /** Classify a step whose CPL changed or that faulted, and record it. */
  stepEvent(seq: number, code: number, faulted: boolean, fault: { vector: number; errorCode: number; cr2: bigint } | null,
    fromCpl: number, toCpl: number, fromRip: bigint, toRip: bigint): void {
    if (faulted && fault !== null) {
      const kind = fault.vector === 14 ? 'page_fault' : 'exception';
      this.event(seq, kind, fault.vector, fault.errorCode, fault.vector === 14 ? fault.cr2 : 0n, fromCpl, toCpl, fromRip, toRip);
      return;
    }
    if (code === Code.Syscall) { this.event(seq, 'syscall', -1, 0, 0n, fromCpl, toCpl, fromRip, toRip); return; }
    if (code === Code.Sysretq) {
      this.event(seq, 'sysret', -1, 0, 0n, fromCpl, toCpl, fromRip, toRip);
      this.closeSyscall(seq);
      return;
    }
    if (code === Code.Iretq) {
      this.event(seq, 'iret', -1, 0, 0n, fromCpl, toCpl, fromRip, toRip);
      if (toCpl === 3) this.closeSyscall(seq); // a system call that returns with IRETQ (a signal handler, rt_sigreturn)
      return;
    }
    if (code === Code.Int_imm8 || code === Code.Int3) { this.event(seq, 'interrupt', code === Code.Int3 ? 3 : -1, 0, 0n, fromCpl, toCpl, fromRip, toRip); return; }
    if (fromCpl !== toCpl) this.event(seq, 'interrupt', -1, 0, 0n, fromCpl, toCpl, fromRip, toRip);
  }

  /** The host is servicing a system call at step `entrySeq` (the SYSCALL instruction's step). */
  beginSyscall(entrySeq: number, number: number, args: bigint[]): void {
    this.counts.syscalls++;
    this.open = { entrySeq, number, args, result: undefined };
  }

  /** The host's result of the open system call. */
  syscallResult(value: bigint): void {
    if (this.open !== null) this.open.result = value;
  }

  /** SYSRETQ at `seq` returns from the open system call. */
  closeSyscall(returnSeq: number): void {
    const o = this.open;
    if (o === null) return;
    this.open = null;
    this.add(this.syscalls, [o.entrySeq, returnSeq, o.number, syscallName(o.number), ...o.args, o.result ?? 0n]);
  }

  /** An input received at `seq`. */
  input(seq: number, kind: string, data: Uint8Array): void {
    this.add(this.inputs, [seq, kind, data.slice()]);
  }

  /** Write every buffered row (at a sync point: a system call in progress is written when it returns). */
  flushRows(): void {
    for (const b of [this.events, this.syscalls, this.inputs]) if (b.length) this.sink(b);
  }

  /** Write every buffered row; a system call that never returned (exit) gets return_seq -1. */
  flushAll(): void {
    if (this.open !== null) this.closeSyscall(-1);
    for (const b of [this.events, this.syscalls, this.inputs]) if (b.length) this.sink(b);
  }
}
