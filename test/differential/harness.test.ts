// Self-test of the differential harness: the native runner reports known results for hand-written code,
// and compare() notices a difference.
import { Instruction } from 'iced-x86';
import { beforeAll, describe, expect, it } from 'vitest';
import { Ctx, finish, Rng } from './gen.js';
import { buildRunner, compare, DATA_BASE, DiffCase, Emulator, hostUnsupportedReason, runNative } from './harness.js';

/** A case running `bytes` with the given GPRs (others zero), flags 0x202, empty x87 stack. */
function rawCase(bytes: number[], regs: Record<number, bigint> = {}, nExits = 1): DiffCase {
  const ctx = new Ctx(new Rng(1, 'selftest', bytes.length), 'selftest', 0);
  for (let i = 0; i < 16; i++) if (i !== 4) ctx.gpr[i] = regs[i] ?? 0n;
  if (regs[4] !== undefined) ctx.gpr[4] = regs[4];
  ctx.rflags = 0x202;
  ctx.nExits = nExits;
  ctx.add(() => Instruction.createDeclareByte(new Uint8Array(bytes)));
  return finish(ctx);
}

const why = hostUnsupportedReason();
if (why) console.warn(`SKIPPING the differential harness self-test: ${why}`);

describe.skipIf(why !== null)('differential harness self-test', () => {
  let exe = '';
  beforeAll(() => { exe = buildRunner(); });

  it('runs code natively and reports registers, flags, memory and x87 state', () => {
    const cases = [
      rawCase([0x01, 0xd8], { 0: 0xffffffffn, 3: 1n }), // add eax, ebx
      rawCase([0x48, 0x89, 0x07], { 0: 0x1122334455667788n, 7: BigInt(DATA_BASE + 0x100) }), // mov [rdi], rax
      rawCase([0xd9, 0xe8]), // fld1
      rawCase([0xfd]), // std (the runner must restore DF for its own code)
    ];
    const [add, store, fld1, std] = runNative(exe, cases);
    expect(add!.kind).toBe('exit');
    expect(add!.gpr[0]).toBe(0n);
    expect(add!.rflags & 0x8d5).toBe(0x1 | 0x4 | 0x10 | 0x40); // CF PF AF ZF
    expect(store!.mem.size).toBe(8);
    expect(store!.mem.get(0x100)).toBe(0x88);
    expect(store!.mem.get(0x107)).toBe(0x11);
    const fsw = fld1!.fx[2]! | (fld1!.fx[3]! << 8);
    expect((fsw >> 11) & 7).toBe(7); // TOP decremented
    expect(Array.from(fld1!.fx.subarray(32, 42))).toEqual([0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f]);
    expect(std!.rflags & 0x400).toBe(0x400);
  });

  it('reports faults with their vector and RIP, and the state at the fault', () => {
    const cases = [
      rawCase([0x0f, 0x0b]), // ud2
      rawCase([0xf7, 0xf1], { 0: 5n, 1: 0n }), // div ecx (ecx = 0)
      rawCase([0x8b, 0x00], { 0: 0x40000000n }), // mov eax, [rax]: unmapped
      rawCase([0x48, 0xff, 0xc0, 0x0f, 0x0b], { 0: 41n }), // inc rax; ud2
    ];
    const [ud, de, pf, after] = runNative(exe, cases);
    expect([ud!.kind, ud!.code, ud!.rip]).toEqual(['fault', 6, BigInt(0x01000000 + cases[0]!.entry)]);
    expect([de!.kind, de!.code]).toEqual(['fault', 0]);
    expect([pf!.kind, pf!.code, pf!.cr2]).toEqual(['fault', 14, 0x40000000n]);
    expect(after!.gpr[0]).toBe(42n);
    expect(after!.rip).toBe(BigInt(0x01000000 + cases[3]!.entry + 3));
  });

  it('follows exits: a taken branch ends at exit 1', () => {
    const c = rawCase([0xeb, 0x10], {}, 2); // jmp +0x10 = over exit stub 0 to exit stub 1
    expect(runNative(exe, [c])[0]!.code).toBe(1);
  });

  it('compare() reports a difference in a register, a flag and memory', () => {
    const c = rawCase([0x48, 0x01, 0x07], { 0: 5n, 7: BigInt(DATA_BASE + 0x200) }); // add [rdi], rax
    const nat = runNative(exe, [c])[0]!;
    const emu = new Emulator().run(c);
    expect(compare(c, nat, emu)).toEqual([]);
    const bad = { ...emu, gpr: emu.gpr.slice(), rflags: emu.rflags ^ 0x1, mem: new Map(emu.mem) };
    bad.gpr[3] = 7n;
    bad.mem.set(0x200, (emu.mem.get(0x200) ?? 0) ^ 0xff);
    const d = compare(c, nat, bad).join('\n');
    expect(d).toMatch(/rbx/);
    expect(d).toMatch(/rflags.*CF/);
    expect(d).toMatch(/memory differs/);
  });
});
