// A stepping session over one trace: the index, the navigator, the state at the current position and the
// symbols, plus the position persisted in `<trace>/position.json` so that consecutive `trace step` invocations
// walk on. Verbs are the HyperDbg ones; every user mistake is a value with a message.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readTraceSymbols, SymbolTable } from '../trace/symbols.js';
import { checkTrace } from '../trace/trace-check.js';
import { TraceReader } from '../trace/trace-reader.js';
import { openStepIndex } from './index-builder.js';
import { Landing, Motion, Navigator } from './navigator.js';
import { ReplayState } from './replay-state.js';
import { StepIndex } from './step-index.js';
import { memoryDump, registerBlock, StepJson, stepJson, stepLine } from './step-view.js';
import { wideRegisterBlock } from './wide-registers.js';

/** One movement request. */
export interface MoveRequest {
  /** in (default), over or out. */
  motion?: Motion;
  /** Backwards. */
  back?: boolean;
  /** Repeat (default 1). */
  count?: number;
  /** Run to the next/previous execution of this address or symbol. */
  to?: string;
  /** Run to the next/previous write to ADDR[:LEN]. */
  write?: string;
  /** Called after each landing (to print it at once); returning false stops the move there. */
  onLanding?: (l: Landing) => boolean;
}

/** What a move did. */
export interface MoveResult {
  /** Each landing, in order (the last one is the new position). */
  landings: Landing[];
  /** A message for an end of the trace or a watchpoint hit. */
  note?: string;
  /** With a breakpoint (`to`) or watchpoint (`write`): true if every one of the `count` searches found its target. */
  hit?: boolean;
}

/** The position file of a trace. */
export function positionPath(dir: string): string {
  return join(dir, 'position.json');
}

/** An open session. */
export class StepSession {
  /** The trace directory. */
  readonly dir: string;
  readonly index: StepIndex;
  readonly nav: Navigator;
  readonly state: ReplayState;
  readonly symbols: SymbolTable;

  private opened: TraceReader | undefined;

  private constructor(dir: string, reader: TraceReader | undefined, index: StepIndex) {
    this.dir = dir;
    this.opened = reader;
    this.index = index;
    this.nav = new Navigator(index);
    this.state = new ReplayState(reader ?? null, index);
    this.symbols = readTraceSymbols(dir);
  }

  /** The trace, opened on first use (stepping with a current index does not need it). */
  get reader(): TraceReader {
    if (this.opened === undefined) {
      const r = TraceReader.open(this.dir);
      if ('error' in r) throw new Error(r.error);
      this.opened = r;
    }
    return this.opened;
  }

  /** Open a trace (building its index on first use); a one-line error if it cannot be stepped. The position is
   * `at` if given and in range, else the saved one. */
  static open(dir: string, opts: { snapshotEvery?: number; at?: number } = {}): StepSession | { error: string } {
    // a current index opens from the trace's meta.json alone; otherwise the trace is opened and indexed
    let index = opts.snapshotEvery === undefined ? StepIndex.loadDir(dir) : undefined;
    // a cached index must cover exactly the steps the trace serves (its consistent prefix)
    const served = checkTrace(dir, false);
    if (index !== undefined && ('error' in served || index.steps !== served.steps)) { index.closeSync(); index = undefined; }
    let reader: TraceReader | undefined;
    if (index === undefined) {
      const r = TraceReader.open(dir);
      if ('error' in r) return r;
      if (r.table('insns').rows === 0) return { error: `${dir}: the trace has no steps` };
      const built = openStepIndex(r, opts);
      if ('error' in built) return built;
      reader = r;
      index = built;
    }
    if (index.steps === 0) { index.closeSync(); return { error: `${dir}: the trace has no steps` }; }
    const s = new StepSession(dir, reader, index);
    const at = opts.at !== undefined && Number.isInteger(opts.at) && opts.at >= 0 && opts.at < index.steps ? opts.at : s.savedPosition();
    s.state.seek(Math.min(at, index.steps - 1));
    return s;
  }

  /** Current position. */
  get position(): number {
    return this.state.position;
  }

  /** The position saved in position.json (0 if none). */
  savedPosition(): number {
    try {
      const o = JSON.parse(readFileSync(positionPath(this.dir), 'utf8')) as { seq?: unknown };
      return typeof o.seq === 'number' && Number.isInteger(o.seq) && o.seq >= 0 ? o.seq : 0;
    } catch {
      return 0;
    }
  }

  /** Save the current position. */
  savePosition(): void {
    writeFileSync(positionPath(this.dir), JSON.stringify({ seq: this.position }) + '\n');
  }

  /** Jump to a step. */
  goto(seq: number): { error: string } | undefined {
    if (!Number.isInteger(seq) || seq < 0 || seq >= this.index.steps) return { error: `--at ${seq}: the trace has steps 0..${this.index.steps - 1}` };
    this.state.seek(seq);
    return undefined;
  }

  /** An address: hex (0x optional when it has a-f digits... always read as hex), or [MODULE!]SYMBOL[+OFF]. */
  parseAddress(text: string): bigint | { error: string } {
    const t = text.trim().replace(/`/g, '');
    if (/^(0x)?[0-9a-f]+$/i.test(t)) return BigInt(t.startsWith('0x') || t.startsWith('0X') ? t : `0x${t}`);
    const m = /^((?:[\w.+-]+!)?[A-Za-z_.$][\w.$@]*)(?:\+(0x[0-9a-f]+|\d+))?$/i.exec(t); // [module!]symbol[+off]
    if (m !== null) {
      const syms = this.symbols.byName(m[1]!);
      if (syms.length === 0) return { error: `unknown symbol ${m[1]}` };
      return syms[0]!.address + (m[2] !== undefined ? BigInt(m[2]) : 0n);
    }
    return { error: `not an address or symbol: ${text}` };
  }

  /** ADDR[:LEN] (LEN decimal or 0x hex, default `deflen`). */
  parseRange(text: string, deflen: number): { addr: bigint; len: number } | { error: string } {
    const i = text.lastIndexOf(':');
    const a = this.parseAddress(i >= 0 ? text.slice(0, i) : text);
    if (typeof a !== 'bigint') return a;
    const len = i >= 0 ? Number(text.slice(i + 1)) : deflen;
    if (!Number.isInteger(len) || len <= 0 || len > 1 << 20) return { error: `bad length in ${text}` };
    return { addr: a, len };
  }

  /** Move; the state follows the last landing. */
  move(req: MoveRequest): MoveResult | { error: string } {
    const count = req.count ?? 1, back = req.back ?? false;
    if (!Number.isInteger(count) || count < 1) return { error: `--count must be a positive integer` };
    const landings: Landing[] = [];
    let p = this.position, note: string | undefined;
    let target: bigint | undefined, range: { addr: bigint; len: number } | undefined;
    if (req.to !== undefined) {
      const a = this.parseAddress(req.to);
      if (typeof a !== 'bigint') return a;
      target = a;
    }
    if (req.write !== undefined) {
      const r = this.parseRange(req.write, 8);
      if ('error' in r) return r;
      range = r;
    }
    for (let k = 0; k < count; k++) {
      let l: Landing;
      if (target !== undefined) l = this.nav.toAddress(p, target, back);
      else if (range !== undefined) l = this.nav.toWrite(p, range.addr, range.len, back);
      else l = this.nav.move(p, req.motion ?? 'in', back);
      landings.push(l);
      p = l.seq;
      if (req.onLanding !== undefined && !req.onLanding(l)) break;
      if (l.end !== undefined) {
        note = l.end === 'end' ? `end of the trace (last step ${this.index.steps - 1})` : 'start of the trace (step 0)';
        if (target !== undefined) note += `: no ${back ? 'earlier' : 'later'} execution of ${req.to}`;
        if (range !== undefined) note += `: no ${back ? 'earlier' : 'later'} write to ${req.write}`;
        break;
      }
      if (l.wrote !== undefined) note = `step ${l.wrote} wrote to ${req.write}`;
    }
    this.state.seek(p);
    const r: MoveResult = note === undefined ? { landings } : { landings, note };
    if (target !== undefined || range !== undefined) r.hit = landings.length === count && landings[count - 1]!.end === undefined;
    return r;
  }

  /** The step line of a position. */
  line(seq: number): string {
    return stepLine(this.index, this.symbols, seq);
  }

  /** Register block at the current position. */
  registerBlock(): string[] {
    return registerBlock(this.state);
  }

  /** The register block followed by x87, MMX, MXCSR, XCR0 and XMM/YMM (`--regs all`). */
  allRegisters(): string[] {
    return [...registerBlock(this.state), ...wideRegisterBlock(this.state.delta.state.u8)];
  }

  /** Memory dump at the current position. */
  dump(text: string, deflen = 64): string[] | { error: string } {
    const r = this.parseRange(text, deflen);
    if ('error' in r) return r;
    return memoryDump(this.state, r.addr, r.len);
  }

  /** The --json object of the current position. */
  json(): StepJson {
    return stepJson(this.index, this.symbols, this.state);
  }

  /** Release files. */
  closeSync(): void {
    this.index.closeSync();
  }
}
