// A minimal harness: load a static ELF's PT_LOAD segments into a bare identity-mapped machine and call one of
// its functions with SysV arguments, returning to an address that holds HLT (which faults at CPL 3 and stops).
import { BareMachine } from '../src/cpu/bare-machine.js';
import { RunStatus } from '../src/cpu/cpu.js';
import { parseElf, readSymbols, SegmentType } from '../src/guest/elf.js';

/** A loaded image in a bare machine. */
export interface BareImage {
  /** The machine. */
  m: BareMachine;
  /** Function addresses by name. */
  symbols: Map<string, bigint>;
}

const STOP = 0x3ff000n; // a page below the usual 0x400000 image base, holding HLT
const STACK_TOP = 0x3f00000n;

/** Load an ET_EXEC image into a bare machine of `memory` bytes. */
export function loadBare(bytes: Uint8Array, memory = 256 * 1024 * 1024): BareImage {
  const parsed = parseElf(bytes);
  if (!parsed.ok) throw new Error(parsed.error);
  const m = new BareMachine({ memory });
  for (const ph of parsed.image.programHeaders) {
    if (ph.type !== SegmentType.LOAD) continue;
    m.load(Number(ph.vaddr), bytes.subarray(Number(ph.offset), Number(ph.offset + ph.filesz)));
  }
  m.load(Number(STOP), new Uint8Array([0xf4]));
  const syms = readSymbols(bytes);
  const symbols = new Map<string, bigint>();
  if (syms.ok) for (const s of syms.symbols) symbols.set(s.name, s.address);
  return { m, symbols };
}

/** Call `fn(args...)`; returns RAX and the number of instructions executed. */
export function callBare(img: BareImage, fn: string, args: bigint[], maxSteps = 2e9): { rax: bigint; steps: number } {
  const { m } = img;
  const addr = img.symbols.get(fn);
  if (addr === undefined) throw new Error(`no symbol ${fn}`);
  const argRegs = [7, 6, 2, 1, 8, 9];
  args.forEach((a, i) => m.setReg(argRegs[i]!, a));
  const sp = STACK_TOP - 8n;
  m.setReg(4, sp);
  const ret = new Uint8Array(8);
  new DataView(ret.buffer).setBigUint64(0, STOP, true);
  m.load(Number(sp), ret);
  m.setRip(addr);
  const start = m.cpu.icount;
  const st = m.cpu.run(maxSteps);
  const steps = m.cpu.icount - start;
  if (st !== RunStatus.EXIT || m.rip() !== STOP) {
    throw new Error(`${fn} did not return: status ${st}, rip ${m.rip().toString(16)}, fault ${String(m.cpu.lastFault)}`);
  }
  return { rax: m.reg(0), steps: steps - 1 };
}
