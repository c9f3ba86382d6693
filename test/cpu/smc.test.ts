// Self-modifying code: decoded blocks are cached by physical address and must be dropped when their bytes
// change, whether the write comes from the same block, another linear alias of the frame, or the host.
import { describe, expect, it } from 'vitest';
import { BareMachine } from '../../src/cpu/bare-machine.js';
import { RunStatus } from '../../src/cpu/cpu.js';
import { Off } from '../../src/cpu/state.js';

const R = (off: number): number => off >> 2;
const RAX = 0;
const HLT = 0xf4; // at CPL 3 a #GP exit: a convenient "stop here"

function le32(v: number): number[] { return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff]; }

/** Run from `rip` until the terminating HLT (#GP exit at CPL 3); returns RAX. */
function runToHlt(m: BareMachine, rip: number, expectedHltAt: number): bigint {
  m.setRip(rip);
  expect(m.cpu.run(1000)).toBe(RunStatus.EXIT);
  expect(m.cpu.lastFault?.vector).toBe(13);
  expect(m.rip()).toBe(BigInt(expectedHltAt));
  return m.reg(RAX);
}

describe('self-modifying code', () => {
  it('a store into a later instruction of the same block is seen when that instruction executes', () => {
    const m = new BareMachine();
    m.load(0x1000, new Uint8Array([
      0xc6, 0x05, ...le32(1), 0x02, // 1000: mov byte [rip+1], 2  -> patches the imm8 of the next mov's first byte
      0xb8, 0x01, 0x00, 0x00, 0x00, // 1007: mov eax, 1
      HLT, // 100c
    ]));
    expect(runToHlt(m, 0x1000, 0x100c)).toBe(2n);
    // the patched instruction is now decoded afresh: running only the second instruction gives 2 again
    expect(runToHlt(m, 0x1007, 0x100c)).toBe(2n);
  });

  it('a store into a block decoded earlier invalidates it (loop that rewrites its own body)', () => {
    const m = new BareMachine();
    m.load(0x1000, new Uint8Array([0xb8, 0x01, 0x00, 0x00, 0x00, HLT])); // mov eax, 1 ; hlt
    m.load(0x3000, new Uint8Array([0xc6, 0x04, 0x25, ...le32(0x1001), 0x07, 0xeb, 0x00, HLT])); // mov byte [0x1001], 7 ; jmp +0 ; hlt
    expect(runToHlt(m, 0x1000, 0x1005)).toBe(1n);
    expect(runToHlt(m, 0x1000, 0x1005)).toBe(1n); // cached block
    const decoded = m.cpu.blocksDecoded;
    expect(runToHlt(m, 0x3000, 0x300a)).toBe(1n);
    expect(runToHlt(m, 0x1000, 0x1005)).toBe(7n);
    expect(m.cpu.blocksDecoded).toBeGreaterThan(decoded + 1); // the block at 0x1000 was decoded again
  });

  it('a store through another linear alias of the frame invalidates the decoded code', () => {
    const m = new BareMachine();
    // alias: linear 0x600000 (PD index 3) -> physical 0 (the frame of the code at 0x1000)
    const pd = (m.cpu.r[R(Off.CR3)]! & ~0xfff) + 0x2000;
    m.mem.dv.setUint32(pd + 3 * 8, 0x000000e7, true);
    m.cpu.flushTlb();
    m.load(0x1000, new Uint8Array([0xb8, 0x01, 0x00, 0x00, 0x00, HLT]));
    // writer: mov byte [0x601001], imm ; hlt
    const writer = (v: number): void => m.load(0x3000, new Uint8Array([0xc6, 0x04, 0x25, ...le32(0x601001), v, HLT]));
    writer(3);
    expect(runToHlt(m, 0x3000, 0x3008)).toBe(0n); // a write through the alias before the code was decoded
    expect(runToHlt(m, 0x1000, 0x1005)).toBe(3n);
    writer(4);
    expect(runToHlt(m, 0x3000, 0x3008)).toBe(3n); // the alias's write-TLB entry must not bypass the code check
    expect(runToHlt(m, 0x1000, 0x1005)).toBe(4n);
    expect(m.mem.bytes[0x1001]).toBe(4);
  });

  it('a store into the second page of an instruction that crosses a page boundary invalidates it', () => {
    const m = new BareMachine();
    m.load(0x1ffe, new Uint8Array([0xb8, 0x11, 0x22, 0x33, 0x44, HLT])); // mov eax, 0x44332211 across 0x2000
    expect(runToHlt(m, 0x1ffe, 0x2003)).toBe(0x44332211n);
    m.load(0x3000, new Uint8Array([0xc6, 0x04, 0x25, ...le32(0x2001), 0x99, HLT])); // mov byte [0x2001], 0x99
    expect(runToHlt(m, 0x3000, 0x3008)).toBe(0x44332211n);
    expect(runToHlt(m, 0x1ffe, 0x2003)).toBe(0x44992211n);
  });

  it('host writes reported with notifyPhysWrite invalidate decoded code', () => {
    const m = new BareMachine();
    m.load(0x1000, new Uint8Array([0xb8, 0x01, 0x00, 0x00, 0x00, HLT]));
    expect(runToHlt(m, 0x1000, 0x1005)).toBe(1n);
    m.mem.bytes[0x1001] = 0x42; // a raw host write: the decoded block is (legitimately) still used
    expect(runToHlt(m, 0x1000, 0x1005)).toBe(1n);
    m.cpu.notifyPhysWrite(0x1001, 1);
    expect(runToHlt(m, 0x1000, 0x1005)).toBe(0x42n);
    // a host write that spans two frames invalidates both
    m.load(0x1ffe, new Uint8Array([0xb8, 0x11, 0x22, 0x33, 0x44, HLT]));
    expect(runToHlt(m, 0x1ffe, 0x2003)).toBe(0x44332211n);
    m.mem.bytes[0x2002] = 0x55;
    m.cpu.notifyPhysWrite(0x2002, 1);
    expect(runToHlt(m, 0x1ffe, 0x2003)).toBe(0x55332211n);
  });
});
