// The monitor trap flag on real samples: every step (instruction, REP iteration, faulting attempt) ends in an exit
// the hypervisor sees, and the ring switches and page faults of the guest kernel are real. Each property is the
// SDM's (vol. 3C, "Monitor Trap Flag") or Linux's, observed through vm.enter() exits only.
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Decoder, DecoderOptions, Instruction, InstructionInfoFactory, MemorySizeExt, OpAccess, Register } from 'iced-x86';
import { afterAll, describe, expect, it } from 'vitest';
import { getFlags } from '../../src/cpu/flags.js';
import { Off } from '../../src/cpu/state.js';
import type { GuestMachine, ServiceOutcome } from '../../src/guest/machine.js';
import { EXIT_REASON_NAMES, ExitReason } from '../../src/vmx/exit-reason.js';
import { gpr, peek, rip, runStepped, sampleMachine, stateU64, Step, tinyElf } from './mtf-stepper.js';

const TF = 0x100;
const RCX = 1, RSP = 4, RDI = 7, R11 = 11;
const hex = (b: Uint8Array | undefined): string => (b === undefined ? '' : Buffer.from(b).toString('hex'));

/** A step with the instruction bytes at its RIP and the state after it. */
interface Rec extends Step {
  bytes: string; // hex of up to 15 bytes at rip (as mapped after the step; '' if not present)
  vector: number; // vector of the fault delivered by this step, or -1
  frame: Uint8Array | undefined; // for a fault: the 48 bytes at the handler's RSP right after delivery
  after: { rip: bigint; cpl: number; rflags: number; cr2: bigint; gprs: bigint[] };
}

const dir = mkdtempSync(join(tmpdir(), 'itrace-mtf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Output files for a guest's stdout and stderr. */
function stdio(tag: string): { fds: [number, number, number]; read: () => [string, string]; close: () => void } {
  const out = join(dir, `${tag}.out`), err = join(dir, `${tag}.err`);
  const fds: [number, number, number] = [0, openSync(out, 'w'), openSync(err, 'w')];
  return {
    fds,
    read: () => [readFileSync(out, 'latin1'), readFileSync(err, 'latin1')],
    close: () => { closeSync(fds[1]); closeSync(fds[2]); },
  };
}

function snapshot(m: GuestMachine): Rec['after'] {
  return {
    rip: rip(m), cpl: m.cpu.cpl, rflags: getFlags(m.cpu.r), cr2: stateU64(m, Off.CR2),
    gprs: Array.from({ length: 16 }, (_, n) => gpr(m, n)),
  };
}

/** Run a machine to the end under MTF, recording every step. */
function record(m: GuestMachine): { recs: Rec[]; outcome: ServiceOutcome; initial: Rec['after'] } {
  const recs: Rec[] = [];
  const initial = snapshot(m);
  const { outcome } = runStepped(m, (s) => {
    const f = m.cpu.lastFault;
    const after = snapshot(m);
    const frame = s.faulted ? peek(m, after.gprs[RSP]!, 48) : undefined;
    recs.push({ ...s, bytes: hex(peek(m, s.rip, 15)), vector: s.faulted && f !== null ? f.vector : -1, frame, after });
  });
  return { recs, outcome, initial };
}

function run(name: string, args: string[] = []): { recs: Rec[]; outcome: ServiceOutcome; initial: Rec['after']; m: GuestMachine } {
  const io = stdio(`${name}-rec`);
  try {
    const m = sampleMachine(name, { args, stdio: io.fds });
    return { ...record(m), m };
  } finally {
    io.close();
  }
}

/** The state before step i. */
const before = (t: { recs: Rec[]; initial: Rec['after'] }, i: number): Rec['after'] => (i === 0 ? t.initial : t.recs[i - 1]!.after);

function decode(bytesHex: string, at: bigint): Instruction {
  const d = new Decoder(64, Buffer.from(bytesHex, 'hex'), DecoderOptions.None);
  d.ip = at;
  const ins = d.decode();
  d.free();
  return ins;
}

/** GPR number of a 64-bit register, for effective addresses. */
const gprNumber = (r: Register): number => r - Register.RAX;

describe('MTF on hello-musl', () => {
  const t = run('hello-musl');
  const { recs, m } = t;

  it('the program runs to its normal end', () => {
    expect(t.outcome).toEqual({ kind: 'exit', status: 0 });
  });

  it('(a) SYSCALL in ring 3 -> entry_SYSCALL_64 at CPL 0 -> SYSRETQ -> the next instruction at CPL 3', () => {
    const lstar = stateU64(m, Off.LSTAR);
    expect(m.routineAt(lstar)).toMatchObject({ name: 'entry_SYSCALL_64', address: lstar });
    const syscalls = recs.flatMap((r, i) => (r.cpl === 3 && r.bytes.startsWith('0f05') ? [i] : []));
    expect(syscalls.length).toBe(m.syscalls); // each SYSCALL instruction is one serviced system call
    let checked = 0;
    for (const k of syscalls) {
      const sc = recs[k]!;
      const entry = recs[k + 1]!;
      // SDM SYSCALL: RCX := RIP of the next instruction, R11 := RFLAGS; the next step is LSTAR's first instruction
      expect(sc.after.gprs[RCX]).toBe(sc.rip + 2n);
      expect(sc.after.gprs[R11]).toBe(BigInt(before(t, k).rflags));
      expect(entry).toMatchObject({ rip: lstar, cpl: 0 });
      // the kernel path stays at CPL 0 until SYSRETQ (48 0f 07), with one VMCALL (the host's system call service)
      let j = k + 1;
      while (!recs[j]!.bytes.startsWith('480f07')) {
        expect(recs[j]!.cpl).toBe(0);
        expect(m.routineAt(recs[j]!.rip)?.name).toBe('entry_SYSCALL_64');
        j++;
        if (j >= recs.length) break;
      }
      if (j >= recs.length) { expect(k).toBe(syscalls[syscalls.length - 1]); break; } // exit_group never returns
      const path = recs.slice(k + 1, j + 1);
      expect(path.filter((r) => r.reason === ExitReason.VMCALL)).toHaveLength(1);
      expect(recs[j]).toMatchObject({ cpl: 0, reason: ExitReason.MONITOR_TRAP_FLAG });
      expect(recs[j + 1]).toMatchObject({ cpl: 3, rip: sc.rip + 2n }); // SYSRETQ returns to the instruction after SYSCALL
      expect(recs[j]!.after.rip).toBe(sc.rip + 2n);
      checked++;
    }
    expect(checked).toBe(syscalls.length - 1); // every system call but exit_group returned
    expect(checked).toBeGreaterThanOrEqual(4); // arch_prctl, set_tid_address, ioctl, writev, write
  });

  it('(c) a REP string instruction is one MTF exit per iteration (same RIP, RCX decreasing by one)', () => {
    const k = recs.findIndex((r) => r.cpl === 3 && r.bytes.startsWith('f348ab')); // rep stosq in musl's start-up
    expect(k).toBeGreaterThanOrEqual(0);
    const at = recs[k]!.rip;
    const count = before(t, k).gprs[RCX]!;
    expect(count).toBeGreaterThan(1n);
    for (let i = 0n; i < count; i++) {
      const r = recs[k + Number(i)]!;
      expect(r).toMatchObject({ rip: at, cpl: 3, reason: ExitReason.MONITOR_TRAP_FLAG, faulted: false });
      expect(r.after.gprs[RCX]).toBe(count - i - 1n);
      expect(r.after.gprs[RDI]).toBe(before(t, k).gprs[RDI]! + 8n * (i + 1n));
      expect(r.after.rip).toBe(i === count - 1n ? at + 3n : at); // RIP leaves the instruction after the last iteration
    }
    expect(recs[k + Number(count)]!.rip).toBe(at + 3n);
    console.log(`hello-musl: rep stosq at 0x${at.toString(16)}: ${count} iterations = ${count} MTF exits`);
  });

  it('(d) no RFLAGS value in the trace has TF: MTF does not use the trap flag', () => {
    expect(recs.filter((r) => (r.after.rflags & TF) !== 0)).toEqual([]);
    expect(recs.every((r) => (r.after.rflags & 0x2) !== 0)).toBe(true); // sanity: the fixed bit is there
  });

  it('(f) exit counts use the SDM reason numbers: VMCALL 18, MONITOR_TRAP_FLAG 37', () => {
    const mtf = recs.filter((r) => r.reason === ExitReason.MONITOR_TRAP_FLAG).length;
    const vmcalls = recs.filter((r) => r.reason === ExitReason.VMCALL).length + 1; // + exit_group's, which never completes
    expect([...m.vm.exitCounts.entries()].sort((a, b) => a[0] - b[0])).toEqual([[18, vmcalls], [37, mtf]]);
    expect(EXIT_REASON_NAMES[18]).toBe('VMCALL');
    expect(EXIT_REASON_NAMES[37]).toBe('MONITOR_TRAP_FLAG');
    expect(vmcalls).toBe(m.syscalls + m.pageFaults);
    // every completed step is one exit: MTF exits, plus the VMCALLs the hypervisor completed
    expect(recs.length).toBe(m.cpu.icount);
    console.log(`hello-musl: ${recs.length} steps (${recs.filter((r) => r.cpl === 3).length} at CPL 3), exits ${JSON.stringify([...m.vm.exitCounts])}, ${m.syscalls} system calls, ${m.pageFaults} page faults`);
  });
});

describe('MTF on pages-musl: page faults', () => {
  const t = run('pages-musl');
  const { recs, m } = t;
  const pfHandler = m.kernel.routines.find((r) => r.name === 'asm_exc_page_fault')!;
  const infos = new InstructionInfoFactory();

  it('the program runs to its normal end', () => {
    expect(t.outcome).toEqual({ kind: 'exit', status: 0 });
  });

  /** Check one user-mode #PF step k: delivery, CR2, error code, the handler, IRETQ and the re-execution. */
  function checkFault(k: number): { cr2: bigint; err: bigint } {
    const f = recs[k]!;
    expect(f).toMatchObject({ cpl: 3, faulted: true, vector: 14, reason: ExitReason.MONITOR_TRAP_FLAG });
    // the faulting step is followed by the first instruction of asm_exc_page_fault at CPL 0 (MTF after delivery)
    const h = recs[k + 1]!;
    expect(h).toMatchObject({ rip: pfHandler.address, cpl: 0 });
    expect(f.after).toMatchObject({ rip: pfHandler.address, cpl: 0 });
    // CR2 is the linear address the instruction accessed (from its memory operands and the registers before it),
    // or, for an instruction fetch, an address of the instruction itself
    // (an instruction whose fetch faulted is not readable yet: take its bytes from the re-execution)
    const ins = decode(f.bytes || recs.find((r, i) => i > k && r.rip === f.rip && r.bytes !== '')!.bytes, f.rip);
    const regs = before(t, k).gprs;
    const cr2 = f.after.cr2;
    const accesses = infos.info(ins).usedMemory().map((u) => {
      let ea = u.displacement;
      if (u.base !== Register.None && u.base !== Register.RIP) ea += regs[gprNumber(u.base)]!;
      if (u.index !== Register.None) ea += regs[gprNumber(u.index)]! * BigInt(u.scale);
      const write = u.access === OpAccess.Write || u.access === OpAccess.ReadWrite || u.access === OpAccess.CondWrite || u.access === OpAccess.ReadCondWrite;
      return { ea: BigInt.asUintN(64, ea), size: BigInt(MemorySizeExt.size(u.memorySize)), write };
    });
    const fetch = cr2 >= (f.rip & ~0xfffn) && cr2 < f.rip + BigInt(ins.length);
    // the access that faulted: it starts at CR2, or crosses into CR2's page
    const hit = accesses.find((a) => cr2 === a.ea || (cr2 > a.ea && cr2 < a.ea + a.size && (cr2 & 0xfffn) === 0n));
    expect(fetch || hit !== undefined).toBe(true);
    const write = !fetch && hit!.write;
    // the hardware frame on the kernel stack: error code, RIP, CS, RFLAGS, RSP, SS
    const frame = new DataView(f.frame!.buffer);
    const err = frame.getBigUint64(0, true);
    expect(err & 1n).toBe(0n); // P = 0: not present
    expect(err & 2n).toBe(write ? 2n : 0n); // W/R: the access
    expect(err & 4n).toBe(4n); // U/S = 1: user mode
    expect(err & 16n).toBe(fetch ? 16n : 0n); // I/D: an instruction fetch or a data access
    expect(frame.getBigUint64(8, true)).toBe(f.rip); // the faulting instruction, to re-execute
    expect(frame.getBigUint64(16, true)).toBe(0x33n); // user CS
    expect(frame.getBigUint64(32, true)).toBe(regs[RSP]); // user RSP
    // the handler runs at CPL 0 (one VMCALL: the host's demand-paging policy) until IRETQ (48 cf)
    let j = k + 1;
    while (!recs[j]!.bytes.startsWith('48cf')) { expect(recs[j]!.cpl).toBe(0); j++; }
    expect(recs.slice(k + 1, j).filter((r) => r.reason === ExitReason.VMCALL)).toHaveLength(1);
    expect(recs.slice(k + 1, j + 1).every((r) => m.routineAt(r.rip)?.name === 'asm_exc_page_fault')).toBe(true);
    expect(recs[j]!.cpl).toBe(0);
    // IRETQ returns to CPL 3 and the SAME instruction re-executes and succeeds
    expect(recs[j + 1]).toMatchObject({ rip: f.rip, cpl: 3, faulted: false, reason: ExitReason.MONITOR_TRAP_FLAG });
    expect(recs[j + 1]!.after.cpl).toBe(3);
    return { cr2, err };
  }

  it('(b) first touch of an anonymous mmap page and of a brk page: #PF, handler, IRETQ, the same instruction again', () => {
    const faults = recs.flatMap((r, i) => (r.faulted && r.cpl === 3 ? [i] : []));
    expect(faults.length).toBe(m.pageFaults);
    // classify by the mapping the address is in at the end: the 4 MiB malloc, the 64-page mmap and the 16 brk pages
    // pages.c adds are released by then; musl's malloc keeps its first brk pages
    const kindOf = (cr2: bigint): string => m.as.find(cr2)?.kind ?? 'released by the end (munmap, brk shrink)';
    const seen = new Map<string, number>();
    for (const k of faults) seen.set(kindOf(recs[k]!.after.cr2), (seen.get(kindOf(recs[k]!.after.cr2)) ?? 0) + 1);
    console.log(`pages-musl: ${faults.length} user page faults by mapping: ${JSON.stringify([...seen])}`);
    const firstAnon = faults.find((k) => m.as.find(recs[k]!.after.cr2) === undefined && recs[k]!.after.cr2 > 0x7ff000000000n)!; // mmap area
    const firstBrk = faults.find((k) => m.as.find(recs[k]!.after.cr2)?.kind === 'brk')!;
    expect(firstAnon).toBeDefined();
    expect(firstBrk).toBeDefined();
    const a = checkFault(firstAnon), b = checkFault(firstBrk);
    // pages.c writes each page first (heap[i] = ...): W/R = 1
    expect(a.err).toBe(6n);
    expect(b.err & 5n).toBe(4n);
    // every other user fault passes the same checks (data and instruction fetches in the program's segments too)
    const codes = new Map<bigint, number>();
    for (const k of faults) { const e = checkFault(k).err; codes.set(e, (codes.get(e) ?? 0) + 1); }
    console.log(`pages-musl: error codes ${JSON.stringify([...codes].map(([e, n]) => [Number(e), n]))}`);
  });

  it('(d) no RFLAGS value in the trace has TF', () => {
    expect(recs.some((r) => (r.after.rflags & TF) !== 0)).toBe(false);
  });
});

describe('MTF and the guest\'s view of RFLAGS', () => {
  it('(d) PUSHF pushes the guest\'s own RFLAGS: no TF under MTF', () => {
    // pushfq; pop rdi; mov eax, 231 (exit_group); syscall -- the exit status is the low byte of RFLAGS
    const code = Uint8Array.of(0x9c, 0x5f, 0x48, 0xc1, 0xef, 0x08, 0xb8, 0xe7, 0, 0, 0, 0x0f, 0x05);
    const elf = tinyElf(code);
    const path = join(dir, 'pushf');
    const m = sampleMachine('hello-musl', { image: elf, execPath: path });
    const pushed: bigint[] = [];
    const { outcome } = runStepped(m, (s) => {
      if (s.cpl === 3 && peek(m, s.rip, 1)?.[0] === 0x5f) pushed.push(gpr(m, RDI)); // after pop rdi
    });
    expect(pushed).toHaveLength(1);
    expect(pushed[0]! & BigInt(TF)).toBe(0n);
    expect(pushed[0]! & 0x202n).toBe(0x202n); // IF and the fixed bit, as Linux starts a program
    expect(outcome).toEqual({ kind: 'exit', status: Number((pushed[0]! >> 8n) & 0xffn) }); // (RFLAGS >> 8): TF is bit 0
    expect(outcome).toEqual({ kind: 'exit', status: 2 }); // only IF (bit 9)
  });
});

describe('MTF with VM-entry event injection', () => {
  it('(e) the MTF exit comes before the first instruction of the injected event\'s handler', () => {
    const io = stdio('inject');
    try {
      const m = sampleMachine('hello-musl', { stdio: io.fds });
      // step to the program's first user-mode instruction (the kernel's IRETQ to ring 3 is step 0)
      runStepped(m, () => (m.cpu.cpl === 3 ? 'stop' : undefined));
      const entry = rip(m), userRsp = gpr(m, RSP), icount = m.cpu.icount;
      expect(entry).toBe(m.entry);
      const gprs = Array.from({ length: 16 }, (_, n) => gpr(m, n));
      // inject #UD (vector 6) as a hardware exception (type 3)
      m.vm.vmcs.injection = { vector: 6, type: 3 };
      expect(m.vm.enter()).toBe(ExitReason.MONITOR_TRAP_FLAG);
      const handler = m.kernel.routines.find((r) => r.vector === 6)!;
      expect(handler.name).toBe('exc_invalid_op');
      expect(rip(m)).toBe(handler.address); // the IDT handler's first instruction, not yet executed
      expect(m.cpu.cpl).toBe(0);
      expect(m.cpu.icount).toBe(icount); // nothing executed
      expect(m.vm.vmcs.injection).toBeNull(); // consumed by the entry
      // delivery only pushed the frame (no error code for #UD): RIP, CS, RFLAGS, RSP, SS; the GPRs are untouched
      const sp = gpr(m, RSP);
      const frame = new DataView(peek(m, sp, 40)!.buffer);
      expect(frame.getBigUint64(0, true)).toBe(entry);
      expect(frame.getBigUint64(8, true)).toBe(0x33n);
      expect(frame.getBigUint64(24, true)).toBe(userRsp);
      expect(frame.getBigUint64(32, true)).toBe(0x2bn);
      expect(Array.from({ length: 16 }, (_, n) => (n === RSP ? 0n : gpr(m, n)))).toEqual(gprs.map((v, n) => (n === RSP ? 0n : v)));
      // the next step is the handler's first instruction; the handler ends the process with SIGILL
      const steps: Step[] = [];
      const { outcome } = runStepped(m, (s) => { steps.push(s); });
      expect(steps[0]).toMatchObject({ rip: handler.address, cpl: 0 });
      expect(outcome).toMatchObject({ kind: 'signal', status: 132 });
    } finally {
      io.close();
    }
  });
});

describe('(g) MTF-off and MTF-on runs agree', () => {
  const cases: [string, string[]][] = [['hello-musl', []], ['pages-musl', []], ['compute-musl', ['40']], ['segv-musl', []]];
  for (const [name, args] of cases) {
    it(`${name} ${args.join(' ')}: same output, same outcome, same instruction count`, () => {
      const a = stdio(`${name}-off`), b = stdio(`${name}-on`);
      let off: ServiceOutcome, on: ServiceOutcome, offCount: number, onCount: number, steps: number, mtfExits: number;
      try {
        const m1 = sampleMachine(name, { args, stdio: a.fds });
        const t0 = performance.now();
        off = m1.run();
        const t1 = performance.now();
        offCount = m1.cpu.icount;
        const m2 = sampleMachine(name, { args, stdio: b.fds });
        let n = 0;
        const r = runStepped(m2, () => { n++; });
        const t2 = performance.now();
        on = r.outcome; onCount = m2.cpu.icount; steps = n;
        mtfExits = m2.vm.exitCounts.get(ExitReason.MONITOR_TRAP_FLAG) ?? 0;
        console.log(`${name}: ${offCount} steps; MTF off ${(t1 - t0).toFixed(0)} ms, MTF on ${(t2 - t1).toFixed(0)} ms (${mtfExits} MTF exits)`);
      } finally {
        a.close(); b.close();
      }
      expect(on).toEqual(off);
      expect(b.read()).toEqual(a.read());
      expect(onCount).toBe(offCount);
      expect(steps).toBe(onCount);
      expect(off.kind === 'exit' || off.kind === 'signal').toBe(true);
    });
  }
});
