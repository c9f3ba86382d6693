import { describe, expect, it } from 'vitest';
import { BareMachine } from '../../src/cpu/bare-machine.js';
import { RunStatus } from '../../src/cpu/cpu.js';

describe('run loop', () => {
  it('reports an unimplemented instruction as #UD naming it, without crashing', () => {
    const m = new BareMachine();
    m.load(0x1000, new Uint8Array([0xc5, 0xf8, 0x77])); // vzeroupper: real, but AVX is not advertised or implemented
    m.setRip(0x1000);
    m.cpu.controls.exceptionBitmap = 0xffffffff;
    // make sure this instruction really is unimplemented; if a family implements it, pick another
    const st = m.cpu.run(1);
    expect([RunStatus.EXIT, RunStatus.BUDGET]).toContain(st);
    if (st === RunStatus.EXIT) {
      expect(m.cpu.exit.reason).toBe(0);
      expect(m.cpu.lastFault?.vector).toBe(6);
      expect(m.cpu.lastFault?.detail).toMatch(/Vzeroupper/);
      expect(m.rip()).toBe(0x1000n);
    }
  });

  it('reports undecodable bytes as #UD at the right RIP', () => {
    const m = new BareMachine();
    m.load(0x2000, new Uint8Array([0x06])); // PUSH ES is invalid in 64-bit mode
    m.setRip(0x2000);
    expect(m.cpu.run(1)).toBe(RunStatus.EXIT);
    expect(m.cpu.lastFault?.vector).toBe(6);
    expect(m.rip()).toBe(0x2000n);
  });
});
