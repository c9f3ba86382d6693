// The wire and the server without gdb: framing (checksums, escapes, split packets, acks), request parsing, and the
// server's answers on a recording of hello-musl: refused writes, unmapped memory, the target description, the
// stop replies at both ends, breakpoints and watchpoints backwards.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseElf } from '../../src/guest/elf.js';
import { checksum, frame, GdbConnection, unescape } from '../../src/gdb/connection.js';
import { GDB_REGISTERS } from '../../src/gdb/gdb-registers.js';
import { parseRequest } from '../../src/gdb/request.js';
import { GdbServer } from '../../src/gdb/server.js';
import { targetDescription } from '../../src/gdb/target-description.js';
import { StepSession } from '../../src/replayer/step-session.js';
import { recordSample } from '../replayer/recordings.js';

const ask = (s: GdbServer, packet: string): string => {
  const a = s.handle(parseRequest(Buffer.from(packet, 'latin1')));
  if (a instanceof Promise) throw new Error(`${packet} was answered asynchronously`);
  const r = a.replies[a.replies.length - 1];
  return r === undefined ? '' : typeof r === 'string' ? r : Buffer.from(r).toString('latin1');
};

describe('GDB remote protocol framing', () => {
  it('frames with the modulo-256 checksum and escapes $ # } *', () => {
    expect(frame(Buffer.from('OK')).toString('latin1')).toBe('$OK#9a');
    expect(checksum(Buffer.from('qSupported'))).toBe('37');
    const f = frame(Uint8Array.of(0x24, 0x23, 0x7d, 0x2a, 0x41));
    expect([...f.subarray(1, f.length - 3)]).toEqual([0x7d, 0x04, 0x7d, 0x03, 0x7d, 0x5d, 0x7d, 0x0a, 0x41]);
    expect([...unescape(f.subarray(1, f.length - 3))]).toEqual([0x24, 0x23, 0x7d, 0x2a, 0x41]);
  });

  it('reassembles split packets, acks until no-ack mode, naks a bad checksum, reports 0x03', () => {
    const sent: string[] = [], got: string[] = [];
    let interrupts = 0;
    const c = new GdbConnection((b) => sent.push(b.toString('latin1')), { packet: (d) => got.push(d.toString('latin1')), interrupt: () => interrupts++ });
    c.feed(Buffer.from('+$qSupp'));
    c.feed(Buffer.from('orted#3'));
    c.feed(Buffer.from('7$g#00\x03'));
    expect(got).toEqual(['qSupported']);
    expect(sent).toEqual(['+', '-']);
    expect(interrupts).toBe(1);
    c.noAck = true;
    c.feed(Buffer.from('$g#67'));
    expect(got).toEqual(['qSupported', 'g']);
    expect(sent).toEqual(['+', '-']);
  });

  it('parses requests into typed values', () => {
    const p = (s: string): ReturnType<typeof parseRequest> => parseRequest(Buffer.from(s, 'latin1'));
    expect(p('Z2,7fffffffe000,8')).toEqual({ kind: 'point', insert: true, type: 'write', addr: 0x7fffffffe000n, length: 8 });
    expect(p('z0,401000,1')).toEqual({ kind: 'point', insert: false, type: 'sw', addr: 0x401000n, length: 1 });
    expect(p('bc')).toEqual({ kind: 'resume', resume: { action: 'continue', back: true } });
    expect(p('vCont;s:1;c')).toEqual({ kind: 'resume', resume: { action: 'step', back: false } });
    expect(p('m401000,10')).toEqual({ kind: 'read-memory', addr: 0x401000n, length: 16, binary: false });
    expect(p('qXfer:features:read:target.xml:0,ffb')).toEqual({ kind: 'xfer-read', object: 'features', annex: 'target.xml', offset: 0, length: 0xffb });
    expect(p(`qRcmd,${Buffer.from('seek 5').toString('hex')}`)).toEqual({ kind: 'monitor', command: 'seek 5' });
    expect(p('M401000,1:90').kind).toBe('write');
    expect(p('qTStatus').kind).toBe('unsupported');
    expect(p('k')).toEqual({ kind: 'kill', reply: false });
    expect(p('vKill;1')).toEqual({ kind: 'kill', reply: true });
  });
});

describe('GDB server on a recording', () => {
  let s: GdbServer;
  beforeAll(() => {
    const { dir } = recordSample('hello-musl', []);
    const session = StepSession.open(dir, { at: 0 });
    if ('error' in session) throw new Error(session.error);
    s = new GdbServer(session);
  });

  it('describes x86-64 with core, SSE, Linux and segment-base features, in the g packet\'s order', () => {
    const xml = targetDescription();
    for (const f of ['i386.core', 'i386.sse', 'i386.linux', 'i386.segments']) expect(xml).toContain(`<feature name="org.gnu.gdb.${f}">`);
    const names = [...xml.matchAll(/<reg name="(\w+)"/g)].map((m) => m[1]);
    expect(names).toEqual(GDB_REGISTERS.map((r) => r.name));
    expect(names.slice(0, 18)).toEqual(['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip', 'eflags']);
    expect(names).toContain('orig_rax');
    expect(names.slice(-2)).toEqual(['fs_base', 'gs_base']);
    expect(ask(s, 'g').length).toBe(GDB_REGISTERS.reduce((n, r) => n + r.bits / 4, 0));
  });

  it('advertises reverse execution and starts at the first user-mode step', () => {
    expect(ask(s, 'qSupported:swbreak+;xmlRegisters=i386')).toMatch(/PacketSize=[0-9a-f]+;QStartNoAckMode\+;.*ReverseStep\+;ReverseContinue\+/);
    expect(ask(s, '?')).toBe('T05thread:1;');
    expect(s.session.index.cplAt(s.position)).toBe(3);
    expect(ask(s, 'qC')).toBe('QC1');
    expect(ask(s, 'qfThreadInfo')).toBe('m1');
    expect(ask(s, 'qsThreadInfo')).toBe('l');
  });

  it('serves the auxv from the initial stack: AT_ENTRY is the ELF entry point, AT_PAGESZ 4096', () => {
    const r = ask(s, 'qXfer:auxv:read::0,1000');
    expect(r[0]).toBe('l');
    const words = new BigUint64Array(new Uint8Array(Buffer.from(r.slice(1), 'latin1')).buffer);
    const aux = new Map<bigint, bigint>();
    for (let k = 0; k + 1 < words.length; k += 2) aux.set(words[k]!, words[k + 1]!);
    expect(words[words.length - 2]).toBe(0n); // AT_NULL last
    const elf = parseElf(readFileSync(resolve('guests/bin/hello-musl')));
    if (!elf.ok) throw new Error(elf.error);
    expect(aux.get(9n)).toBe(elf.image.header.entry); // AT_ENTRY
    expect(aux.get(6n)).toBe(4096n); // AT_PAGESZ
    expect(ask(s, 'qXfer:exec-file:read::0,1000')).toBe(`l${resolve('guests/bin/hello-musl')}`);
  });

  it('refuses writes and reads of unmapped memory', () => {
    for (const w of ['G00', 'P0=00', 'M401000,1:90', 'X401000,0:']) expect(ask(s, w)).toMatch(/^E/);
    expect(ask(s, 'm10,8')).toBe('E14');
    const rip = BigInt(`0x${Buffer.from(ask(s, 'p10'), 'hex').reverse().toString('hex')}`);
    const code = ask(s, `m${rip.toString(16)},4`);
    expect(code).toMatch(/^[0-9a-f]{8}$/);
    const bin = ask(s, `x${rip.toString(16)},4`);
    expect(Buffer.from(bin.slice(1), 'latin1').toString('hex')).toBe(code);
  });

  it('steps back to the start with replaylog:begin, and forward to the recorded exit status', () => {
    const first = s.position;
    expect(ask(s, 'bs')).toBe('T05replaylog:begin;thread:1;');
    expect(s.position).toBe(first);
    expect(ask(s, 's')).toBe('T05thread:1;');
    expect(ask(s, 'bs')).toBe('T05thread:1;');
    expect(s.position).toBe(first);
    expect(ask(s, 'c')).toBe('W00'); // hello exits with 0
    expect(ask(s, 'bc')).toBe('T05replaylog:begin;thread:1;');
  });

  it('a breakpoint is hit in both directions; a write watchpoint backwards stops before the writer', () => {
    const main = s.session.symbols.byName('main')[0]!.address;
    expect(ask(s, `Z0,${main.toString(16)},1`)).toBe('OK');
    expect(ask(s, 'c')).toBe('T05swbreak:;thread:1;');
    const atMain = s.position;
    expect(s.session.index.rip(atMain)).toBe(main);
    expect(ask(s, 'c')).toBe('W00');
    expect(ask(s, 'bc')).toBe('T05swbreak:;thread:1;');
    expect(s.position).toBe(atMain);
    expect(ask(s, `z0,${main.toString(16)},1`)).toBe('OK');
    // the return-address slot that main's CALL wrote: backwards from main's first step, the CALL wrote it
    const rsp = BigInt(`0x${Buffer.from(ask(s, 'p7'), 'hex').reverse().toString('hex')}`);
    expect(ask(s, `Z2,${rsp.toString(16)},8`)).toBe('OK');
    expect(ask(s, 'bc')).toBe(`T05watch:${rsp.toString(16)};thread:1;`);
    expect(s.session.index.callAt(s.position)).toBeGreaterThanOrEqual(0);
    expect(ask(s, `z2,${rsp.toString(16)},8`)).toBe('OK');
  });

  it('answers monitor commands with console output', async () => {
    const a = await s.handle(parseRequest(Buffer.from(`qRcmd,${Buffer.from('when').toString('hex')}`)));
    const text = Buffer.from((a.replies[0] as string).slice(1), 'hex').toString();
    expect(text).toBe(`step ${s.position} of ${s.timeline.steps}\n`);
    const seek = await s.handle(parseRequest(Buffer.from(`qRcmd,${Buffer.from('seek 3').toString('hex')}`)));
    expect(seek.replies.length).toBeGreaterThan(1);
    expect(s.position).toBe(s.timeline.owner(3));
    expect(a.replies[a.replies.length - 1]).toBe('OK');
  });
});
