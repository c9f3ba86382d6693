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
    const iret = text.indexOf('iretq');
    expect(text.slice(iret - 2, iret + 1)).toEqual(['mov byte ptr gs:[18h],0', 'swapgs', 'iretq']);
    expect(text).toContain('sub rsp,18h');
    // the switch path: every user register saved on the task's kernel stack around the call of __switch_to
    const call = text.findIndex((t) => t.startsWith('call '));
    expect(text.slice(call - 13, call)).toEqual(['push rax', 'push rbx', 'push rdx', 'push rsi', 'push rdi', 'push rbp', 'push r8', 'push r9', 'push r10', 'push r12', 'push r13', 'push r14', 'push r15']);
    expect(text.slice(call + 1, call + 14)).toEqual(['pop r15', 'pop r14', 'pop r13', 'pop r12', 'pop r10', 'pop r9', 'pop r8', 'pop rbp', 'pop rdi', 'pop rsi', 'pop rdx', 'pop rbx', 'pop rax']);
    expect(disasm(code.subarray(r.resume!, r.resume! + 2), KERNEL_BASE + BigInt(r.resume!))).toEqual(['pop r15']); // where a switched-to task resumes
  });

  it('assembles the exception routines so that they can return to a signal handler', () => {
    const r = routines.find((x) => x.name === 'exc_invalid_op')!;
    const text = disasm(code.subarray(r.offset, r.offset + r.size), KERNEL_BASE + BigInt(r.offset));
    expect(text.slice(0, 4)).toEqual(['push 0', 'push rdi', 'mov edi,6', 'vmcall']);
    // a process that ended switches away (cmp/jne to the dead switch); otherwise back to the (new) user context
    expect(text.slice(6, 9)).toEqual(['pop rdi', 'add rsp,8', 'iretq']);
    expect(text.slice(-2)).toEqual([text[text.length - 2]!, 'hlt']);
    expect(text[text.length - 2]!.startsWith('call ')).toBe(true);
  });

  it('assembles __switch_to: save RSP, FXSAVE, FS/GS bases; load the next task\'s, its CR3 and RSP; ret', () => {
    const r = routines.find((x) => x.name === '__switch_to')!;
    const text = disasm(code.subarray(r.offset, r.offset + r.size), KERNEL_BASE + BigInt(r.offset));
    expect(text).toContain('fxsave64 [rsi]');
    expect(text).toContain('fxrstor64 [rdi]');
    expect(text.filter((t) => t === 'rdmsr')).toHaveLength(3);
    expect(text.filter((t) => t === 'wrmsr')).toHaveLength(3);
    expect(text.slice(-3)).toEqual(['mov cr3,rax', 'mov rsp,[rdi+200h]', 'ret']);
  });

  it('assembles the page-fault handler returning with iretq, and switching away for good when its task dies', () => {
    const r = routines.find((x) => x.name === 'asm_exc_page_fault')!;
    const text = disasm(code.subarray(r.offset, r.offset + r.size), KERNEL_BASE + BigInt(r.offset));
    expect(text).toContain('mov rax,cr2');
    const iret = text.indexOf('iretq');
    expect(text.slice(iret - 3, iret)).toEqual(['pop rax', 'pop rdi', 'add rsp,8']);
    expect(text.slice(iret + 1, iret + 4).map((t) => t.split(' ')[0])).toEqual(['mov', 'call', 'hlt']);
  });
});
