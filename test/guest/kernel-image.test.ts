import { Decoder, DecoderOptions, Formatter, FormatterSyntax, Instruction } from 'iced-x86';
import { describe, expect, it } from 'vitest';
import { buildKernel, ROUTINE_SIZE } from '../../src/guest/kernel/image.js';
import { KERNEL_BASE } from '../../src/guest/layout.js';

function disasm(bytes: Uint8Array, ip: bigint): string[] {
  const d = new Decoder(64, bytes, DecoderOptions.None);
  d.ip = ip;
  const f = new Formatter(FormatterSyntax.Intel);
  const out: string[] = [];
  const ins = new Instruction();
  while (d.canDecode) { d.decodeOut(ins); out.push(f.format(ins)); }
  d.free(); f.free(); ins.free();
  return out;
}

describe('guest kernel image', () => {
  const { code, routines } = buildKernel(KERNEL_BASE);

  it('places each routine in its own slot', () => {
    routines.forEach((r, k) => expect(r.offset).toBe(k * ROUTINE_SIZE));
    expect(new Set(routines.map((r) => r.name)).size).toBe(routines.length);
  });

  it('assembles the SYSCALL entry as swapgs / stack switch / vmcall / sysretq, with an iretq path for a replaced context', () => {
    const r = routines.find((x) => x.name === 'entry_SYSCALL_64')!;
    const text = disasm(code.subarray(r.offset, r.offset + r.size), KERNEL_BASE + BigInt(r.offset));
    expect(text[0]).toBe('swapgs');
    expect(text[1]).toBe('mov gs:[8],rsp');
    expect(text[2]).toBe('mov rsp,gs:[10h]');
    expect(text).toContain('vmcall');
    expect(text).toContain('sysretq');
    // the return the host selects when it replaced the user context (a signal handler, rt_sigreturn): the IRET
    // frame it wrote below the two pushed values, with the user's GS base back
    expect(text.slice(-3)).toEqual(['mov byte ptr gs:[18h],0', 'swapgs', 'iretq']);
    expect(text).toContain('sub rsp,18h');
  });

  it('assembles the exception routines so that they can return to a signal handler', () => {
    const r = routines.find((x) => x.name === 'exc_invalid_op')!;
    const text = disasm(code.subarray(r.offset, r.offset + r.size), KERNEL_BASE + BigInt(r.offset));
    expect(text).toEqual(['push 0', 'push rdi', 'mov edi,6', 'vmcall', 'pop rdi', 'add rsp,8', 'iretq']);
  });

  it('assembles the page-fault handler ending in iretq', () => {
    const r = routines.find((x) => x.name === 'asm_exc_page_fault')!;
    const text = disasm(code.subarray(r.offset, r.offset + r.size), KERNEL_BASE + BigInt(r.offset));
    expect(text).toContain('mov rax,cr2');
    expect(text.at(-1)).toBe('iretq');
  });
});
