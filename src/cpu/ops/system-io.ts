// Port I/O (IN, OUT, INS, OUTS). The processor has no devices: an allowed I/O instruction is always a VM
// exit (reason 30, SDM vol. 3C 28.2.1 table 28-5) for the hypervisor to emulate. When CPL > IOPL the
// TSS I/O permission bitmap decides (SDM vol. 1 19.5.2); a denied access raises #GP(0).
import { Code } from 'iced-x86';
import type { Builder, Cpu } from '../cpu.js';
import { gp } from '../fault.js';
import { getFlags } from '../flags.js';
import { Gpr, Off } from '../state.js';
import type { OpMap } from '../table.js';
import { addLinear, R, sysRead8 } from './system-common.js';

/** VM-exit reason for an I/O instruction. */
export const EXIT_IO_INSTRUCTION = 30;

/** #GP(0) unless CPL <= IOPL or the TSS I/O bitmap allows every port of [port, port + size). */
function checkIoPermission(c: Cpu, port: number, size: number): void {
  const r = c.r;
  if (c.cpl <= ((getFlags(r) >>> 12) & 3)) return;
  const limit = r[R(Off.TR_LIMIT)]!;
  const trLo = r[R(Off.TR_BASE)]!, trHi = r[R(Off.TR_BASE) + 1]!;
  if (limit < 0x67) gp(0, `I/O port 0x${port.toString(16)}: no I/O bitmap (CPL > IOPL)`);
  const a = addLinear(c, trLo, trHi, 0x66), ahi = c.hi;
  const b1 = addLinear(c, a, ahi, 1);
  const mapBase = sysRead8(c, a, ahi) | (sysRead8(c, b1, c.hi) << 8);
  const off = mapBase + (port >>> 3);
  if (off + 1 > limit) gp(0, `I/O port 0x${port.toString(16)}: beyond the I/O bitmap (CPL > IOPL)`);
  const p0 = addLinear(c, trLo, trHi, off), p0hi = c.hi;
  const p1 = addLinear(c, p0, p0hi, 1);
  const bits = sysRead8(c, p0, p0hi) | (sysRead8(c, p1, c.hi) << 8);
  if ((bits >>> (port & 7)) & ((1 << size) - 1)) gp(0, `I/O port 0x${port.toString(16)} denied by the I/O bitmap`);
}

const DX = Gpr.RDX << 2; // index of DX in the 16-bit view

/**
 * Build an I/O instruction: `size` bytes, `isIn` for IN/INS, `str` for INS/OUTS, `imm` for the port in an
 * 8-bit immediate (else DX). The exit qualification follows the SDM: size-1 in bits 2:0, direction in
 * bit 3 (1 = IN), string in bit 4, REP in bit 5, immediate operand in bit 6, port in bits 31:16.
 */
function io(size: number, isIn: boolean, str: boolean, imm: boolean): Builder {
  return (d) => {
    const fixed = (size - 1) | (isIn ? 8 : 0) | (str ? 16 : 0) | (str && d.rep !== 0 ? 32 : 0) | (imm ? 64 : 0);
    const immPort = d.immLo & 0xff;
    return (c) => {
      const port = imm ? immPort : c.s.u16[DX]!;
      checkIoPermission(c, port, size);
      c.vmexit(EXIT_IO_INSTRUCTION, d, (fixed | (port << 16)) >>> 0);
    };
  };
}

const e = (b: Builder): { build: Builder; ends: true } => ({ build: b, ends: true });

/** I/O instructions. */
export const ioOps: OpMap = {
  [Code.In_AL_imm8]: e(io(1, true, false, true)),
  [Code.In_AX_imm8]: e(io(2, true, false, true)),
  [Code.In_EAX_imm8]: e(io(4, true, false, true)),
  [Code.Out_imm8_AL]: e(io(1, false, false, true)),
  [Code.Out_imm8_AX]: e(io(2, false, false, true)),
  [Code.Out_imm8_EAX]: e(io(4, false, false, true)),
  [Code.In_AL_DX]: e(io(1, true, false, false)),
  [Code.In_AX_DX]: e(io(2, true, false, false)),
  [Code.In_EAX_DX]: e(io(4, true, false, false)),
  [Code.Out_DX_AL]: e(io(1, false, false, false)),
  [Code.Out_DX_AX]: e(io(2, false, false, false)),
  [Code.Out_DX_EAX]: e(io(4, false, false, false)),
  [Code.Insb_m8_DX]: e(io(1, true, true, false)),
  [Code.Insw_m16_DX]: e(io(2, true, true, false)),
  [Code.Insd_m32_DX]: e(io(4, true, true, false)),
  [Code.Outsb_DX_m8]: e(io(1, false, true, false)),
  [Code.Outsw_DX_m16]: e(io(2, false, true, false)),
  [Code.Outsd_DX_m32]: e(io(4, false, true, false)),
};
