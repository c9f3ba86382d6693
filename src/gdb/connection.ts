// The wire of the GDB remote serial protocol: `$data#cs` framing with its modulo-256 checksum, `+`/`-`
// acknowledgments until QStartNoAckMode, 0x7d escapes, and the 0x03 interrupt byte. It knows nothing of
// traces: it hands whole packets (unescaped bytes) to a handler and frames the replies.

/** Receives what the peer sent. */
export interface PacketSink {
  /** A complete packet with a valid checksum (escapes resolved, `$`, `#` and checksum removed). */
  packet(data: Buffer): void;
  /** The 0x03 byte (Ctrl-C) outside a packet. */
  interrupt(): void;
}

const DOLLAR = 0x24, HASH = 0x23, ESC = 0x7d, STAR = 0x2a, INTERRUPT = 0x03;

/** Modulo-256 sum of the bytes, as two lower-case hex digits. */
export function checksum(bytes: Uint8Array): string {
  let s = 0;
  for (const b of bytes) s = (s + b) & 0xff;
  return s.toString(16).padStart(2, '0');
}

/** `$data#cs` with `$`, `#`, `}` and `*` escaped (0x7d, then the byte xor 0x20). */
export function frame(data: Uint8Array): Buffer {
  let n = 0;
  for (const b of data) n += b === DOLLAR || b === HASH || b === ESC || b === STAR ? 2 : 1;
  const body = Buffer.alloc(n);
  let k = 0;
  for (const b of data) {
    if (b === DOLLAR || b === HASH || b === ESC || b === STAR) { body[k++] = ESC; body[k++] = b ^ 0x20; } else body[k++] = b;
  }
  return Buffer.concat([Buffer.from('$'), body, Buffer.from(`#${checksum(body)}`)]);
}

/** Resolve 0x7d escapes of received packet data. */
export function unescape(body: Uint8Array): Buffer {
  const out = Buffer.alloc(body.length);
  let k = 0;
  for (let i = 0; i < body.length; i++) out[k++] = body[i] === ESC && i + 1 < body.length ? body[++i]! ^ 0x20 : body[i]!;
  return out.subarray(0, k);
}

/** One connection's framing state. */
export class GdbConnection {
  /** False until the peer and we agree on QStartNoAckMode: then no `+` is sent. */
  noAck = false;
  /** Bytes of the packet being received (between `$` and `#`). */
  private body: number[] = [];
  /** Where the parser is: outside a packet, in its body, or reading the 2 checksum digits. */
  private phase: 'idle' | 'body' | 'sum1' | 'sum2' = 'idle';
  /** Checksum digits read so far. */
  private sum = '';
  private readonly write: (bytes: Buffer) => void;
  private readonly sink: PacketSink;

  constructor(write: (bytes: Buffer) => void, sink: PacketSink) {
    this.write = write;
    this.sink = sink;
  }

  /** Feed received bytes (any split). */
  feed(chunk: Uint8Array): void {
    for (const b of chunk) {
      switch (this.phase) {
        case 'idle':
          if (b === DOLLAR) { this.phase = 'body'; this.body = []; } else if (b === INTERRUPT) this.sink.interrupt();
          // `+` and `-` acknowledge our replies; we never retransmit, so they are ignored
          break;
        case 'body':
          if (b === HASH) { this.phase = 'sum1'; this.sum = ''; } else this.body.push(b);
          break;
        case 'sum1':
          this.sum = String.fromCharCode(b); this.phase = 'sum2';
          break;
        case 'sum2': {
          this.sum += String.fromCharCode(b);
          this.phase = 'idle';
          const raw = Uint8Array.from(this.body);
          if (this.sum.toLowerCase() !== checksum(raw) && !this.noAck) { this.write(Buffer.from('-')); break; }
          if (!this.noAck) this.write(Buffer.from('+'));
          this.sink.packet(unescape(raw));
          break;
        }
      }
    }
  }

  /** Send one packet (text is latin1: one char per byte). */
  send(data: string | Uint8Array): void {
    this.write(frame(typeof data === 'string' ? Buffer.from(data, 'latin1') : data));
  }
}
