// Answers gdb's requests against a recorded trace: registers and memory at the current position (state
// reconstruction of the replayer), moves through the timeline in both directions with breakpoints and
// watchpoints, the target description, the exec file and the auxv. A recording cannot be changed: writes to
// registers or memory are refused. Replies are packet payloads; the connection frames them.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { StepSession } from '../replayer/step-session.js';
import { readAuxv } from './auxv.js';
import { GDB_REGISTERS, readAllRegisters } from './gdb-registers.js';
import { HostFiles } from './host-file.js';
import { ImageMemory } from './image-memory.js';
import { RecordedEnd, recordedEnd } from './recorded-end.js';
import { buildReadIndex } from './read-index.js';
import { GdbRequest, PointType } from './request.js';
import { targetDescription } from './target-description.js';
import { Stop, Timeline, Watchpoint } from './timeline.js';
import { monitorCommand } from './monitor.js';

/** What the server answers to one request: console output packets first (`O...`), then the reply. */
export interface Answer {
  /** Payloads to send in order (the last is the reply proper; none for `k`). */
  replies: (string | Uint8Array)[];
  /** Close the connection after sending (detach, kill). */
  close?: boolean;
  /** Switch the connection to no-ack mode after sending. */
  noAck?: boolean;
}

/** Options of a server. */
export interface ServerOptions {
  /** Show ring-0 steps (default: user mode only). */
  kernel?: boolean;
}

/** First address above the user half of the address space. */
const USER_END = 0x0000_8000_0000_0000n;

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const toHexText = (s: string): string => Buffer.from(s, 'latin1').toString('hex');

/** One debugging session over one trace (state survives reconnections). */
export class GdbServer {
  /** The trace opened for stepping: index, navigator, state, symbols. */
  readonly session: StepSession;
  /** What gdb sees of it and how it moves. */
  readonly timeline: Timeline;
  /** Current position (the state before this step; the step count once gdb ran off the end). */
  position: number;
  /** Software and hardware breakpoints: address → type. */
  readonly breakpoints = new Map<bigint, PointType>();
  /** Watchpoints, in insertion order. */
  watches: Watchpoint[] = [];
  /** How the recording ended. */
  readonly end: RecordedEnd;
  /** Absolute path of the recorded program. */
  readonly exe: string;
  /** The executable's pages as loaded (for pages not touched yet), if the file is still the recorded one. */
  private readonly image: ImageMemory | undefined;
  /** Host I/O for the executable (vFile). */
  private readonly files: HostFiles;
  private auxv: Uint8Array | undefined | null = null;
  private xml: string | undefined;

  constructor(session: StepSession, opts: ServerOptions = {}) {
    this.session = session;
    this.timeline = new Timeline(session.nav, opts.kernel ?? false);
    this.position = this.timeline.first();
    this.end = recordedEnd(session.reader);
    const image = session.reader.meta.image;
    const candidates = [resolve(image), ...(session.reader.meta.root !== undefined ? [resolve(session.reader.meta.root, image)] : [])];
    this.exe = candidates.find((c) => existsSync(c)) ?? candidates[0]!;
    this.files = new HostFiles(this.exe);
    const meta = session.reader.meta;
    this.image = ImageMemory.open(this.exe, meta.imageSha256, BigInt(`0x${meta.loadBias.replace(/^0x/, '')}`));
  }

  /** Move the position, 0..steps (the state follows lazily). */
  seek(seq: number): void {
    this.position = Math.max(0, Math.min(seq, this.timeline.steps));
  }

  /** The replay state at the current position. */
  private state(): StepSession['state'] {
    if (this.session.state.position !== this.position) this.session.state.seek(this.position);
    return this.session.state;
  }

  /** Bytes at a linear address, up to the first unmapped one. */
  readMemory(addr: bigint, length: number): Uint8Array {
    const st = this.state(), d = st.delta, out = new Uint8Array(length);
    let k = 0;
    while (k < length) {
      const a = BigInt.asUintN(64, addr + BigInt(k));
      // in user mode the kernel's upper half is not the program's to read (Linux answers EIO)
      if (!this.timeline.kernel && a >= USER_END) break;
      const lo = Number(a & 0xffffffffn), hi = Number(a >> 32n);
      const p = d.translate(lo, hi);
      const n = Math.min(length - k, 4096 - (lo & 0xfff));
      if (p >= 0) { out.set(d.mem.bytes.subarray(p, p + n), k); k += n; continue; }
      // a page of the program not touched yet: its bytes as loaded
      if (this.image === undefined || this.image.byte(a) === undefined) break;
      for (let j = 0; j < n; j++) out[k + j] = this.image.byte(a + BigInt(j)) ?? 0;
      k += n;
    }
    return out.subarray(0, k);
  }

  /** The stop reply of a stop, or the exit reply at the end of the recording. */
  stopReply(stop: Stop): string {
    const r = stop.reason;
    switch (r.kind) {
      case 'step': return 'T05thread:1;';
      case 'breakpoint': return `T05${this.breakpoints.get(r.addr) === 'hw' ? 'hwbreak' : 'swbreak'}:;thread:1;`;
      case 'watch': {
        const key = r.watch.type === 'write' ? 'watch' : r.watch.type === 'read' ? 'rwatch' : 'awatch';
        return `T05${key}:${r.watch.addr.toString(16)};thread:1;`;
      }
      case 'history':
        if (r.at === 'begin') return 'T05replaylog:begin;thread:1;';
        if (this.end.kind === 'exit') return `W${this.end.status.toString(16).padStart(2, '0')}`;
        if (this.end.kind === 'signal') return `X${this.end.signal.toString(16).padStart(2, '0')}`;
        return 'T05replaylog:end;thread:1;';
    }
  }

  /** Resume: move, then report the stop. */
  private resume(action: 'continue' | 'step', back: boolean): string {
    const needReads = this.watches.some((w) => w.type !== 'write');
    if (needReads && this.timeline.reads === undefined) {
      const r = buildReadIndex(this.session.reader);
      if ('error' in r) return 'E05';
      this.timeline.reads = r;
    }
    const stop = action === 'step'
      ? this.timeline.step(this.position, back, this.watches)
      : this.timeline.continue(this.position, back, this.breakpoints.keys(), this.watches);
    // a fatal signal is first reported where it was raised (the faulting instruction), as on Linux
    const fault = this.fatalFault();
    if (!back && stop.reason.kind === 'history' && this.end.kind === 'signal' && fault !== undefined && this.position < fault) {
      this.seek(fault);
      return `T${this.end.signal.toString(16).padStart(2, '0')}thread:1;`;
    }
    this.seek(stop.seq);
    return this.stopReply(stop);
  }

  private xfer(object: string, annex: string, offset: number, length: number): string | Uint8Array {
    let data: Uint8Array;
    if (object === 'features' && annex === 'target.xml') data = Buffer.from(this.xml ??= targetDescription(), 'latin1');
    else if (object === 'exec-file') data = Buffer.from(this.exe, 'utf8');
    else if (object === 'auxv') {
      const a = this.auxvBytes();
      if (a === undefined) return '';
      data = a;
    } else return 'E00';
    const part = data.subarray(offset, offset + length);
    const out = new Uint8Array(part.length + 1);
    out[0] = (offset + length >= data.length ? 'l' : 'm').charCodeAt(0);
    out.set(part, 1);
    return out;
  }

  /** The last faulted user-mode step, when the recording ended with a fatal signal (the instruction that raised it). */
  private fatalFault(): number | undefined {
    const f = this.timeline.index.faults;
    for (let i = f.length - 1; i >= 0; i--) if (this.timeline.index.cplAt(f[i]!) === 3) return f[i];
    return undefined;
  }

  /** The auxv from the initial stack (computed once). */
  auxvBytes(): Uint8Array | undefined {
    if (this.auxv === null) {
      const keep = this.position;
      const first = this.timeline.kernel ? this.session.nav.nextInRing(-1, 3) : this.timeline.first();
      this.position = first;
      this.auxv = first < this.timeline.steps ? readAuxv(this.state()) : undefined;
      this.position = keep;
    }
    return this.auxv;
  }

  private point(insert: boolean, type: PointType, addr: bigint, length: number): string {
    if (type === 'sw' || type === 'hw') {
      if (insert) this.breakpoints.set(addr, type); else this.breakpoints.delete(addr);
      return 'OK';
    }
    if (length <= 0 || length > 1 << 20) return 'E01';
    if (insert) this.watches.push({ type, addr, length });
    else {
      const i = this.watches.findIndex((w) => w.type === type && w.addr === addr && w.length === length);
      if (i >= 0) this.watches.splice(i, 1);
    }
    return 'OK';
  }

  /** Answer one request (monitor commands may run SQL, so answers can be promises). */
  handle(req: GdbRequest): Answer | Promise<Answer> {
    const one = (reply: string | Uint8Array): Answer => ({ replies: [reply] });
    switch (req.kind) {
      case 'supported':
        return one('PacketSize=4000;QStartNoAckMode+;qXfer:features:read+;qXfer:exec-file:read+;' +
          `${this.auxvBytes() !== undefined ? 'qXfer:auxv:read+;' : ''}swbreak+;hwbreak+;vContSupported+;ReverseStep+;ReverseContinue+`);
      case 'no-ack': return { replies: ['OK'], noAck: true };
      case 'xfer-read': return one(this.xfer(req.object, req.annex, req.offset, req.length));
      case 'halt-reason': return one('T05thread:1;');
      case 'read-registers': return one(hex(readAllRegisters(this.state().delta.state)));
      case 'read-register': {
        const r = GDB_REGISTERS[req.n];
        return one(r === undefined ? 'E00' : hex(r.read(this.state().delta.state)));
      }
      case 'read-memory': {
        if (req.length === 0) return one(req.binary ? 'b' : '');
        const b = this.readMemory(req.addr, Math.min(req.length, 0x1f00));
        if (b.length === 0) return one('E14');
        if (!req.binary) return one(hex(b));
        const out = new Uint8Array(b.length + 1);
        out[0] = 0x62; // 'b'
        out.set(b, 1);
        return one(out);
      }
      case 'write': return one('E01');
      case 'thread-first': return one('m1');
      case 'thread-next': return one('l');
      case 'current-thread': return one('QC1');
      case 'set-thread': case 'thread-alive': return one('OK');
      case 'attached': return one('1');
      case 'vcont-query': return one('vCont;c;C;s;S');
      case 'resume': return one(this.resume(req.resume.action, req.resume.back));
      case 'point': return one(this.point(req.insert, req.type, req.addr, req.length));
      case 'detach': return { replies: ['OK'], close: true };
      // the session ends; the recording is untouched
      case 'kill': return { replies: req.reply ? ['OK'] : [], close: true };
      case 'monitor':
        return monitorCommand(this, req.command).then((out) => ({ replies: [...out.lines.map((l) => `O${toHexText(l + '\n')}`), 'OK'] }));
      case 'file': return one(this.files.handle(req.op, req.args));
      case 'unsupported': return one('');
    }
  }
}
