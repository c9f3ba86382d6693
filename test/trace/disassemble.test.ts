import { describe, expect, it } from 'vitest';
import { disassemble } from '../../src/trace/disassemble.js';

describe('disassemble', () => {
  it('formats Intel syntax and classifies calls and returns', () => {
    expect(disassemble(0x401000n, Uint8Array.of(0x48, 0x8b, 0x45, 0xf8)).text).toBe('mov rax,[rbp-8]');
    const call = disassemble(0x401000n, Uint8Array.of(0xe8, 0x10, 0x00, 0x00, 0x00));
    expect(call.isCall).toBe(true);
    expect(call.text).toBe('call 0000000000401015h');
    expect(disassemble(0x401000n, Uint8Array.of(0xc3)).isRet).toBe(true);
    expect(disassemble(0x401000n, Uint8Array.of(0x0f, 0x05)).mnemonic).toBe('syscall');
  });
});
