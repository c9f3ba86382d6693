// 4-level paging (SDM vol. 3A 4.5-4.8, 4.10): the permission matrix of P, R/W, U/S, XD at every level
// against an independent reference of the SDM's rules, #PF error codes and CR2, A/D bits, large pages,
// canonical addresses, and TLB staleness/invalidation.
import { describe, expect, it } from 'vitest';
import { BareMachine } from '../../src/cpu/bare-machine.js';
import { RunStatus } from '../../src/cpu/cpu.js';
import type { Fault } from '../../src/cpu/fault.js';
import { Off } from '../../src/cpu/state.js';

const R = (off: number): number => off >> 2;
const MEM = 16 * 1024 * 1024;

// access kinds (values of mmu.ts's Access)
const READ = 0, WRITE = 1, FETCH = 2;
const ACCESS_NAMES = ['read', 'write', 'fetch'];

// page-table pages and the page the translations resolve to
const PDPT = 0x101000, PD = 0x102000, PT = 0x103000, PAGE4K = 0x200000, PAGE2M = 0x400000;

/** The linear address under test (low half) and one in the high half. */
const LOW = 0x00007f1200567abcn;
const HIGH = 0xffff888000567abcn;

const idx = (l: bigint, level: number): number => Number((l >> BigInt(39 - 9 * level)) & 511n);

/** Flags of one paging-structure entry in the matrix: bit0 P, bit1 R/W, bit2 U/S, bit3 XD. */
interface Perm { p: boolean; rw: boolean; us: boolean; xd: boolean }
const permOf = (k: number): Perm => ({ p: (k & 1) !== 0, rw: (k & 2) !== 0, us: (k & 4) !== 0, xd: (k & 8) !== 0 });

/** The outcome the SDM prescribes: a fault with its error code, or success. */
type Outcome = { fault: false } | { fault: true; err: number };

/**
 * Reference: SDM vol. 3A 4.6 (access rights) and 4.7 (#PF error code), written independently of mmu.ts.
 * The walk goes top-down; a non-present entry faults with P=0; an entry with XD set while EFER.NXE=0 has a
 * reserved bit set (RSVD=1, P=1). After a full walk, rights are the AND over all levels: user accesses
 * need U/S=1 everywhere; writes need R/W=1 everywhere for user accesses and, with CR0.WP=1, for supervisor
 * accesses too; fetches need XD=0 everywhere when NXE=1. Error code: P(0) W/R(1) U/S(2) RSVD(3) I/D(4),
 * where I/D is set for instruction fetches only when NXE=1 (no SMEP).
 */
function reference(levels: Perm[], nxe: boolean, wp: boolean, cpl: number, access: number): Outcome {
  const user = cpl === 3;
  const base = (access === WRITE ? 2 : 0) | (user ? 4 : 0) | (access === FETCH && nxe ? 16 : 0);
  for (const e of levels) {
    if (!e.p) return { fault: true, err: base };
    if (e.xd && !nxe) return { fault: true, err: base | 1 | 8 };
  }
  const u = levels.every((e) => e.us), w = levels.every((e) => e.rw), x = !(nxe && levels.some((e) => e.xd));
  let ok = true;
  if (user && !u) ok = false;
  if (access === WRITE && !w && (user || wp)) ok = false;
  if (access === FETCH && !x) ok = false;
  return ok ? { fault: false } : { fault: true, err: base | 1 };
}

/** A bare machine whose PML4 also maps LOW/HIGH through hand-built tables at PDPT/PD/PT. */
function machine(cpl = 0): BareMachine {
  const m = new BareMachine({ memory: MEM, cpl });
  return m;
}

const pml4Of = (m: BareMachine): number => m.cpu.r[R(Off.CR3)]! & ~0xfff;

/** Write a 64-bit entry. */
function setEntry(m: BareMachine, at: number, lo: number, hi: number): void {
  m.mem.dv.setUint32(at, lo >>> 0, true); m.mem.dv.setUint32(at + 4, hi >>> 0, true);
}

/** Entry value (lo/hi) for a table or page address with matrix flags. */
function entry(addr: number, perm: Perm, ps = false): [number, number] {
  return [(addr | (perm.p ? 1 : 0) | (perm.rw ? 2 : 0) | (perm.us ? 4 : 0) | (ps ? 0x80 : 0)) >>> 0, perm.xd ? 0x80000000 : 0];
}

/** Addresses of the entries used to translate `l`, top-down, for a leaf at `leafLevel` (3 = 4K, 2 = 2M, 1 = 1G). */
function entryAddrs(m: BareMachine, l: bigint, leafLevel: number): number[] {
  const tables = [pml4Of(m), PDPT, PD, PT];
  return tables.slice(0, leafLevel + 1).map((t, i) => t + idx(l, i) * 8);
}

/** Install the tables for `l` with the given per-level flags (A and D clear). */
function install(m: BareMachine, l: bigint, leafLevel: number, perms: Perm[], at = entryAddrs(m, l, leafLevel)): number[] {
  const next = [PDPT, PD, PT];
  for (let i = 0; i <= leafLevel; i++) {
    const leaf = i === leafLevel;
    const target = !leaf ? next[i]! : leafLevel === 3 ? PAGE4K : leafLevel === 2 ? PAGE2M : 0;
    const [lo, hi] = entry(target, perms[i]!, leaf && leafLevel < 3);
    setEntry(m, at[i]!, lo, hi);
  }
  return at;
}

/** Expected physical address of `l` for each leaf level. */
function physOf(l: bigint, leafLevel: number): number {
  if (leafLevel === 3) return PAGE4K + Number(l & 0xfffn);
  if (leafLevel === 2) return PAGE2M + Number(l & 0x1fffffn);
  return Number(l & 0x3fffffffn);
}

const split = (l: bigint): [number, number] => [Number(l & 0xffffffffn), Number(l >> 32n)];

function setModes(m: BareMachine, nxe: boolean, wp: boolean): void {
  const r = m.cpu.r;
  r[R(Off.EFER)] = nxe ? 0xd01 : 0x501;
  r[R(Off.CR0)] = wp ? 0x80010033 : 0x80000033;
}

describe('paging permission matrix (every P/RW/US/XD combination at every level)', () => {
  for (const [leafLevel, name] of [[3, '4-KiB pages'], [2, '2-MiB pages'], [1, '1-GiB pages']] as const) {
    for (const l of leafLevel === 3 ? [LOW, HIGH] : [LOW]) {
      it(`${name} at 0x${l.toString(16)}: loads, stores and fetches at CPL 0 and 3, NXE and WP ${l === LOW ? 'on and off' : 'on'}`, () => {
        const m = machine();
        const c = m.cpu;
        const [lo, hi] = split(l);
        const levels = leafLevel + 1;
        const combos = 16 ** levels;
        const bad: string[] = [];
        let checked = 0, faults = 0;
        const addrs = entryAddrs(m, l, leafLevel);
        // the high-half address checks the index arithmetic; one mode pair suffices there
        const modes = l === LOW ? [false, true] : [true];
        for (const nxe of modes) {
          for (const wp of modes) {
            setModes(m, nxe, wp);
            for (let k = 0; k < combos; k++) {
              const perms: Perm[] = [];
              for (let i = 0; i < levels; i++) perms.push(permOf((k >> (4 * i)) & 15));
              for (const cpl of [0, 3]) {
                for (const access of [READ, WRITE, FETCH]) {
                  const at = install(m, l, leafLevel, perms, addrs);
                  const want = reference(perms, nxe, wp, cpl, access);
                  let got: Outcome, phys = -1;
                  try {
                    phys = c.translateAt(lo, hi, access, cpl);
                    got = { fault: false };
                  } catch (e) {
                    const f = e as Fault;
                    if (f.vector !== 14 || f.cr2Lo !== lo || f.cr2Hi !== hi) {
                      bad.push(`unexpected ${String(f)} cr2=${f.cr2Hi.toString(16)}:${f.cr2Lo.toString(16)}`);
                      continue;
                    }
                    got = { fault: true, err: f.errorCode };
                  }
                  checked++;
                  const where = (): string => `nxe=${nxe} wp=${wp} cpl=${cpl} ${ACCESS_NAMES[access]} perms=${perms.map((p) => `${+p.p}${+p.rw}${+p.us}${+p.xd}`).join('/')}`;
                  if (got.fault !== want.fault || (got.fault && want.fault && got.err !== want.err)) {
                    bad.push(`${where()}: got ${JSON.stringify(got)} want ${JSON.stringify(want)}`);
                    continue;
                  }
                  if (got.fault) { faults++; continue; }
                  if (phys !== physOf(l, leafLevel)) bad.push(`${where()}: phys 0x${phys.toString(16)}`);
                  // A set at every level; D set on the leaf exactly for writes
                  for (let i = 0; i < at.length; i++) {
                    const v = m.mem.dv.getUint32(at[i]!, true);
                    if (!(v & 0x20)) bad.push(`${where()}: A clear at level ${i}`);
                    if (i === at.length - 1 && ((v & 0x40) !== 0) !== (access === WRITE)) bad.push(`${where()}: D=${(v >> 6) & 1} on the leaf`);
                  }
                }
              }
            }
          }
        }
        expect(bad.slice(0, 10)).toEqual([]);
        expect(bad.length).toBe(0);
        expect(checked).toBe(combos * modes.length ** 2 * 6);
        expect(faults).toBeGreaterThan(0);
      });
    }
  }
});

// ---- the same rules through real instructions ---------------------------------------------------

// code at 0x1000 (identity-mapped by the bare machine): one instruction each, RAX = the linear address
const LOAD = [0x8e, 0x18]; // mov ds, word [rax]   (a 16-bit load; memory holds 0, a null selector)
const STORE = [0x8c, 0x18]; // mov word [rax], ds  (a 16-bit store)
const HLT = 0xf4; // placed at the address itself for the fetch: #GP at CPL 3, HALT at CPL 0

describe('paging through instructions (4-KiB leaf flags, upper levels all permissive)', () => {
  it('load, store and fetch fault or succeed as the reference says, with error code and CR2', () => {
    const bad: string[] = [];
    const machines = [machine(0), machine(3)];
    for (const nxe of [false, true]) {
      for (const wp of [false, true]) {
        for (const cpl of [0, 3]) {
          for (let k = 0; k < 16; k++) {
            for (const access of [READ, WRITE, FETCH]) {
              const m = machines[cpl === 0 ? 0 : 1]!;
              m.cpu.flushTlb();
              m.cpu.r[R(Off.HALTED)] = 0;
              m.mem.bytes.fill(0, PAGE4K, PAGE4K + 0x1000);
              m.cpu.notifyPhysWrite(PAGE4K, 0x1000);
              setModes(m, nxe, wp);
              const all: Perm = { p: true, rw: true, us: true, xd: false };
              const leaf = permOf(k);
              const perms = [all, all, all, leaf];
              // PML4 entry of LOW in the bare machine's PML4 (index 254 does not clash with identity index 0)
              const at = install(m, LOW, 3, perms);
              const [lo, hi] = split(LOW);
              if (access === FETCH) { m.mem.bytes[PAGE4K + (lo & 0xfff)] = HLT; m.setRip(LOW); } else {
                m.load(0x1000, new Uint8Array(access === READ ? LOAD : STORE));
                m.setRip(0x1000);
                m.setReg(0, LOW);
                m.cpu.r[R(Off.SEL) + 3] = 0x2b; // DS: becomes 0 after a successful load
              }
              const want = reference(perms, nxe, wp, cpl, access);
              const st = m.cpu.run(1);
              const where = `nxe=${nxe} wp=${wp} cpl=${cpl} ${ACCESS_NAMES[access]} leaf=${+leaf.p}${+leaf.rw}${+leaf.us}${+leaf.xd}`;
              const f = m.cpu.lastFault;
              if (want.fault) {
                if (st !== RunStatus.EXIT || f?.vector !== 14 || f.errorCode !== want.err || f.cr2Lo !== lo || f.cr2Hi !== hi) {
                  bad.push(`${where}: status ${st} fault ${String(f)} want #PF(${want.err})`);
                } else if (m.rip() !== (access === FETCH ? LOW : 0x1000n)) bad.push(`${where}: RIP ${m.rip().toString(16)}`);
                continue;
              }
              if (access === FETCH) {
                // the fetch worked: HLT ran (CPL 0) or raised #GP(0) (CPL 3)
                const ok = cpl === 0 ? st === RunStatus.HALT : st === RunStatus.EXIT && f?.vector === 13;
                if (!ok) bad.push(`${where}: status ${st} fault ${String(f)}`);
              } else {
                if (st !== RunStatus.BUDGET || m.rip() !== 0x1002n) bad.push(`${where}: status ${st} fault ${String(f)}`);
                if (access === READ && m.cpu.r[R(Off.SEL) + 3] !== 0) bad.push(`${where}: DS not loaded`);
                if (access === WRITE && m.mem.dv.getUint16(PAGE4K + (lo & 0xfff), true) !== 0x2b) bad.push(`${where}: store missing`);
              }
              for (let i = 0; i < 4; i++) {
                const v = m.mem.dv.getUint32(at[i]!, true);
                if (!(v & 0x20)) bad.push(`${where}: A clear at level ${i}`);
                if (i === 3 && ((v & 0x40) !== 0) !== (access === WRITE)) bad.push(`${where}: leaf D=${(v >> 6) & 1}`);
              }
            }
          }
        }
      }
    }
    expect(bad).toEqual([]);
  });

  it('a #PF delivered through the IDT writes CR2 (see also system.test.ts)', () => {
    // covered end to end with a real IDT in system.test.ts; here only the Fault carries CR2
    const m = machine(3);
    install(m, LOW, 3, [permOf(7), permOf(7), permOf(7), permOf(0)]);
    m.load(0x1000, new Uint8Array(LOAD));
    m.setRip(0x1000); m.setReg(0, LOW + 5n);
    expect(m.cpu.run(1)).toBe(RunStatus.EXIT);
    const f = m.cpu.lastFault!;
    expect([f.vector, f.errorCode, f.cr2Lo, f.cr2Hi]).toEqual([14, 4, Number((LOW + 5n) & 0xffffffffn), Number((LOW + 5n) >> 32n)]);
  });
});

describe('large pages, reserved bits and canonical addresses', () => {
  it('2-MiB and 1-GiB pages translate loads and stores through instructions', () => {
    for (const leafLevel of [2, 1]) {
      const m = machine(3);
      const all: Perm = { p: true, rw: true, us: true, xd: false };
      install(m, LOW, leafLevel, [all, all, all].slice(0, leafLevel + 1));
      const phys = physOf(LOW, leafLevel);
      m.mem.dv.setUint16(phys, 0x1234, true);
      m.cpu.r[R(Off.SEL) + 3] = 0x2b; // DS
      m.load(0x1000, new Uint8Array(STORE));
      m.setRip(0x1000); m.setReg(0, LOW);
      expect(m.cpu.run(1)).toBe(RunStatus.BUDGET);
      expect(m.mem.dv.getUint16(phys, true)).toBe(0x2b);
    }
  });

  it('reserved bits: XD with NXE=0, PS in a PML4E, bits 20:13 of a 2-MiB PDE -> #PF with RSVD|P', () => {
    const [lo, hi] = split(LOW);
    const cases: [string, (m: BareMachine, at: number[]) => void, number][] = [
      ['XD in the PDE with NXE=0', (m, at) => { setModes(m, false, true); m.mem.dv.setUint32(at[2]! + 4, 0x80000000, true); }, 3],
      ['PS in the PML4E', (m, at) => { m.mem.dv.setUint32(at[0]!, m.mem.dv.getUint32(at[0]!, true) | 0x80, true); }, 3],
      ['bit 13 of a 2-MiB PDE', (m, at) => { m.mem.dv.setUint32(at[2]!, m.mem.dv.getUint32(at[2]!, true) | 0x2000, true); }, 2],
      ['bit 40 of the PTE address', (m, at) => { m.mem.dv.setUint32(at[3]! + 4, 0x100, true); }, 3],
    ];
    for (const [name, mutate, leafLevel] of cases) {
      const m = machine(3);
      const all: Perm = { p: true, rw: true, us: true, xd: false };
      const at = install(m, LOW, leafLevel, [all, all, all, all].slice(0, leafLevel + 1));
      mutate(m, at);
      let f: Fault | undefined;
      try { m.cpu.translateAt(lo, hi, WRITE, 3); } catch (e) { f = e as Fault; }
      expect(f?.vector, name).toBe(14);
      expect(f?.errorCode, name).toBe(1 | 2 | 4 | 8);
      // no A/D update on a reserved-bit fault's faulting entry
    }
  });

  it('a non-canonical address raises #GP(0), not #PF', () => {
    const m = machine(3);
    for (const bad of [0x0000800000000000n, 0xffff7fffffffffffn, 0x8000000000000000n]) {
      m.load(0x1000, new Uint8Array(LOAD));
      m.setRip(0x1000); m.setReg(0, bad);
      expect(m.cpu.run(1)).toBe(RunStatus.EXIT);
      expect(m.cpu.lastFault?.vector).toBe(13);
      expect(m.cpu.lastFault?.errorCode).toBe(0);
      expect(m.cpu.r[R(Off.CR2)]).toBe(0);
    }
  });
});

describe('TLB', () => {
  /** A CPL-0 machine with LOW mapped by a 4-KiB PTE to `frame`, holding distinct words in two frames. */
  function tlbMachine(): { m: BareMachine; pte: number; lo: number; hi: number } {
    const m = machine(0);
    const all: Perm = { p: true, rw: true, us: true, xd: false };
    const at = install(m, LOW, 3, [all, all, all, all]);
    const [lo, hi] = split(LOW);
    m.mem.dv.setUint16(PAGE4K + (lo & 0xfff), 1, true); // null selectors with RPL 1 and 2: loadable into DS
    m.mem.dv.setUint16(PAGE4K + 0x1000 + (lo & 0xfff), 2, true);
    return { m, pte: at[3]!, lo, hi };
  }

  /** Run `mov ds, [rax]` at 0x1000 and return DS (the loaded word). */
  function load(m: BareMachine): number {
    m.load(0x1000, new Uint8Array(LOAD));
    m.setRip(0x1000); m.setReg(0, LOW);
    expect(m.cpu.run(1)).toBe(RunStatus.BUDGET);
    return m.cpu.r[R(Off.SEL) + 3]!;
  }

  it('uses a stale translation after a PTE change without invalidation, the new one after INVLPG', () => {
    const { m, pte } = tlbMachine();
    expect(load(m)).toBe(1);
    m.mem.dv.setUint32(pte, (PAGE4K + 0x1000) | 0x67, true); // remap to the next frame
    expect(load(m)).toBe(1); // stale (allowed: hardware may cache the old translation)
    // invlpg [rax]
    m.load(0x1000, new Uint8Array([0x0f, 0x01, 0x38]));
    m.setRip(0x1000); m.setReg(0, LOW);
    expect(m.cpu.run(1)).toBe(RunStatus.BUDGET);
    expect(load(m)).toBe(2);
  });

  it('a stale translation survives until a CR3 write flushes it', () => {
    const { m, pte } = tlbMachine();
    expect(load(m)).toBe(1);
    m.mem.dv.setUint32(pte, (PAGE4K + 0x1000) | 0x67, true);
    expect(load(m)).toBe(1);
    // mov rax, cr3 ; mov cr3, rax
    m.load(0x1000, new Uint8Array([0x0f, 0x20, 0xd8, 0x0f, 0x22, 0xd8]));
    m.setRip(0x1000);
    expect(m.cpu.run(2)).toBe(RunStatus.BUDGET);
    expect(load(m)).toBe(2);
  });

  it('a stale not-present entry: removing P without INVLPG keeps working, INVLPG then faults', () => {
    const { m, pte } = tlbMachine();
    expect(load(m)).toBe(1);
    m.mem.dv.setUint32(pte, 0, true);
    expect(load(m)).toBe(1);
    m.load(0x1000, new Uint8Array([0x0f, 0x01, 0x38]));
    m.setRip(0x1000); m.setReg(0, LOW);
    expect(m.cpu.run(1)).toBe(RunStatus.BUDGET);
    m.load(0x1000, new Uint8Array(LOAD));
    m.setRip(0x1000);
    expect(m.cpu.run(1)).toBe(RunStatus.EXIT);
    expect(m.cpu.lastFault?.vector).toBe(14);
    expect(m.cpu.lastFault?.errorCode).toBe(0);
  });

  it('a write-protect change takes effect after the TLB is flushed by MOV CR0', () => {
    const { m, pte } = tlbMachine();
    m.mem.dv.setUint32(pte, PAGE4K | 0x65, true); // read-only, supervisor writes allowed only with WP=0
    setModes(m, true, false);
    m.cpu.flushTlb();
    m.load(0x1000, new Uint8Array(STORE));
    m.setRip(0x1000); m.setReg(0, LOW);
    expect(m.cpu.run(1)).toBe(RunStatus.BUDGET);
    // mov rax, cr0 ; bts eax,16 is another family's: set WP by loading RAX from the test
    m.setReg(0, 0x80010033n);
    m.load(0x1000, new Uint8Array([0x0f, 0x22, 0xc0])); // mov cr0, rax
    m.setRip(0x1000);
    expect(m.cpu.run(1)).toBe(RunStatus.BUDGET);
    m.load(0x1000, new Uint8Array(STORE));
    m.setRip(0x1000); m.setReg(0, LOW);
    expect(m.cpu.run(1)).toBe(RunStatus.EXIT);
    expect(m.cpu.lastFault?.vector).toBe(14);
    expect(m.cpu.lastFault?.errorCode).toBe(1 | 2);
  });
});
