// The requests of the GDB remote protocol that the server answers, parsed from packet bytes into plain data.
// Knows the packet syntax only (no trace): see "Packets" and "General Query Packets" in gdb's manual.

/** A resume action: continue or single-step, forwards or backwards. */
export interface Resume {
  /** `c`/`bc` continue, `s`/`bs` single-step. */
  action: 'continue' | 'step';
  /** Backwards (`bc`, `bs`). */
  back: boolean;
}

/** Breakpoint and watchpoint types of Z/z packets. */
export type PointType = 'sw' | 'hw' | 'write' | 'read' | 'access';

/** One parsed request. */
export type GdbRequest =
  | { kind: 'supported'; features: string[] } // qSupported
  | { kind: 'no-ack' } // QStartNoAckMode
  | { kind: 'xfer-read'; object: string; annex: string; offset: number; length: number } // qXfer:OBJ:read:ANNEX:OFF,LEN
  | { kind: 'halt-reason' } // ?
  | { kind: 'read-registers' } // g
  | { kind: 'read-register'; n: number } // p n
  | { kind: 'read-memory'; addr: bigint; length: number; binary: boolean } // m / x
  | { kind: 'write'; what: string } // G P M X: refused
  | { kind: 'thread-first' } // qfThreadInfo
  | { kind: 'thread-next' } // qsThreadInfo
  | { kind: 'current-thread' } // qC
  | { kind: 'set-thread' } // Hg / Hc
  | { kind: 'thread-alive' } // T
  | { kind: 'attached' } // qAttached
  | { kind: 'resume'; resume: Resume } // c s bc bs vCont
  | { kind: 'vcont-query' } // vCont?
  | { kind: 'point'; insert: boolean; type: PointType; addr: bigint; length: number } // Z / z
  | { kind: 'detach' } // D
  | { kind: 'kill'; reply: boolean } // k (no reply), vKill (OK)
  | { kind: 'monitor'; command: string } // qRcmd
  | { kind: 'file'; op: string; args: string[] } // vFile:OP:ARGS (host I/O)
  | { kind: 'unsupported'; packet: string }; // answered with an empty packet

const POINT_TYPES: PointType[] = ['sw', 'hw', 'write', 'read', 'access'];

function hex(s: string | undefined): number | undefined {
  return s !== undefined && /^[0-9a-f]+$/i.test(s) ? parseInt(s, 16) : undefined;
}
function hexBig(s: string | undefined): bigint | undefined {
  return s !== undefined && /^[0-9a-f]+$/i.test(s) ? BigInt(`0x${s}`) : undefined;
}

/** Parse one packet. Malformed or unknown packets are `unsupported`. */
export function parseRequest(data: Buffer): GdbRequest {
  const p = data.toString('latin1');
  const unsupported: GdbRequest = { kind: 'unsupported', packet: p };
  if (p.startsWith('qSupported')) return { kind: 'supported', features: p.length > 11 ? p.slice(11).split(';') : [] };
  if (p === 'QStartNoAckMode') return { kind: 'no-ack' };
  if (p.startsWith('qXfer:')) {
    const m = /^qXfer:([^:]+):read:([^:]*):([0-9a-f]+),([0-9a-f]+)$/i.exec(p);
    if (m === null) return unsupported;
    return { kind: 'xfer-read', object: m[1]!, annex: m[2]!, offset: parseInt(m[3]!, 16), length: parseInt(m[4]!, 16) };
  }
  if (p === '?') return { kind: 'halt-reason' };
  if (p === 'g') return { kind: 'read-registers' };
  if (p[0] === 'p') { const n = hex(p.slice(1)); return n === undefined ? unsupported : { kind: 'read-register', n }; }
  if (p[0] === 'm' || p[0] === 'x') {
    const m = /^[mx]([0-9a-f]+),([0-9a-f]+)$/i.exec(p);
    if (m === null) return unsupported;
    return { kind: 'read-memory', addr: hexBig(m[1])!, length: parseInt(m[2]!, 16), binary: p[0] === 'x' };
  }
  if (p[0] === 'G' || p[0] === 'P' || p[0] === 'M' || p[0] === 'X') return { kind: 'write', what: p[0] };
  if (p === 'qfThreadInfo') return { kind: 'thread-first' };
  if (p === 'qsThreadInfo') return { kind: 'thread-next' };
  if (p === 'qC') return { kind: 'current-thread' };
  if (p.startsWith('Hg') || p.startsWith('Hc')) return { kind: 'set-thread' };
  if (p[0] === 'T') return { kind: 'thread-alive' };
  if (p.startsWith('qAttached')) return { kind: 'attached' };
  if (p === 'c') return { kind: 'resume', resume: { action: 'continue', back: false } };
  if (p === 's') return { kind: 'resume', resume: { action: 'step', back: false } };
  if (p === 'bc') return { kind: 'resume', resume: { action: 'continue', back: true } };
  if (p === 'bs') return { kind: 'resume', resume: { action: 'step', back: true } };
  if (p === 'vCont?') return { kind: 'vcont-query' };
  if (p.startsWith('vCont;')) {
    // one thread: the first action that applies to it (or to all threads) decides; C/S carry a signal we ignore
    const first = p.slice(6).split(';')[0]!.split(':')[0]!;
    const a = first[0];
    if (a === 'c' || a === 'C') return { kind: 'resume', resume: { action: 'continue', back: false } };
    if (a === 's' || a === 'S') return { kind: 'resume', resume: { action: 'step', back: false } };
    return unsupported;
  }
  if (p[0] === 'Z' || p[0] === 'z') {
    const m = /^[Zz]([0-4]),([0-9a-f]+),([0-9a-f]+)/i.exec(p);
    if (m === null) return unsupported;
    return { kind: 'point', insert: p[0] === 'Z', type: POINT_TYPES[Number(m[1])]!, addr: hexBig(m[2])!, length: parseInt(m[3]!, 16) };
  }
  if (p === 'D' || p.startsWith('D;')) return { kind: 'detach' };
  if (p === 'k') return { kind: 'kill', reply: false };
  if (p.startsWith('vKill')) return { kind: 'kill', reply: true };
  if (p.startsWith('vFile:')) {
    const rest = p.slice(6), i = rest.indexOf(':');
    return { kind: 'file', op: i < 0 ? rest : rest.slice(0, i), args: i < 0 ? [] : rest.slice(i + 1).split(',') };
  }
  if (p.startsWith('qRcmd,')) return { kind: 'monitor', command: Buffer.from(p.slice(6), 'hex').toString('latin1') };
  return unsupported;
}
