// The instruction table: one entry per iced-x86 `Code`, merged from the family files. Dispatch, block
// boundaries and the "not implemented" diagnostics all derive from this one table.
import { Code } from 'iced-x86';
import type { Exec } from './cpu.js';
import { type CpuLevel, cpuLevelName } from './cpu-level.js';
import type { Decoded } from './decoded.js';
import type { OpMap, OpSpec } from './op-spec.js';
import { notImplemented, outsideModel } from './operands.js';
import { aluOps } from './ops/alu.js';
import { avxOps } from './ops/avx.js';
import { bitOps } from './ops/bit.js';
import { bmiOps } from './ops/bmi.js';
import { branchOps } from './ops/branch.js';
import { crc32Ops } from './ops/crc32.js';
import { miscOps } from './ops/misc.js';
import { mmxOps } from './ops/mmx.js';
import { movOps } from './ops/mov.js';
import { muldivOps } from './ops/muldiv.js';
import { shiftOps } from './ops/shift.js';
import { sseOps } from './ops/sse.js';
import { stackOps } from './ops/stack.js';
import { stringOps } from './ops/string.js';
import { systemOps } from './ops/system.js';
import { x87Ops } from './ops/x87.js';
import { xsaveOps } from './ops/xsave.js';

export type { OpMap, OpSpec } from './op-spec.js';

/** All families, in one list. */
const FAMILIES: readonly (readonly [string, OpMap])[] = [
  ['alu', aluOps], ['avx', avxOps], ['bit', bitOps], ['bmi', bmiOps], ['branch', branchOps], ['crc32', crc32Ops], ['misc', miscOps], ['mmx', mmxOps], ['mov', movOps], ['muldiv', muldivOps],
  ['shift', shiftOps], ['sse', sseOps], ['stack', stackOps], ['string', stringOps], ['system', systemOps], ['x87', x87Ops], ['xsave', xsaveOps],
];

const TABLE: (OpSpec | undefined)[] = [];
const OWNER: string[] = [];
for (const [family, map] of FAMILIES) {
  for (const [key, v] of Object.entries(map)) {
    const code = Number(key);
    if (TABLE[code] !== undefined) throw new Error(`instruction table: ${Code[code]} defined by both ${OWNER[code]} and ${family}`);
    TABLE[code] = typeof v === 'function' ? { build: v } : (v as OpSpec);
    OWNER[code] = family;
  }
}

/** The table entry of a Code, if implemented. */
export function specOf(code: number): OpSpec | undefined {
  return TABLE[code];
}

/** The family that implements a Code ('' if none). */
export function familyOf(code: number): string {
  return OWNER[code] ?? '';
}

/** Every implemented Code with its family (for tests and `trace` diagnostics). */
export function implementedCodes(): { code: number; name: string; family: string }[] {
  const out: { code: number; name: string; family: string }[] = [];
  TABLE.forEach((s, code) => { if (s) out.push({ code, name: Code[code] ?? String(code), family: OWNER[code]! }); });
  return out;
}

/**
 * Build the handler for a decoded instruction, or a #UD handler naming it when it is not implemented or not
 * part of the selected CPU model (`level`, cpu-level.ts).
 */
export function lookupHandler(d: Decoded, level: CpuLevel): Exec {
  const spec = TABLE[d.code];
  if (spec === undefined) return notImplemented(d, Code[d.code] ?? `code ${d.code}`);
  if (d.level > level && spec.below !== undefined) return spec.below(d);
  if (d.level > level) return outsideModel(d, Code[d.code] ?? `code ${d.code}`, cpuLevelName(d.level), cpuLevelName(level));
  return spec.build(d);
}

/** The Implicit bits of a Code's entry (0 if none, or not implemented). */
export function implicitWrites(code: number): number {
  return TABLE[code]?.writes ?? 0;
}

/** True if the instruction takes a value from the host (an input row of the trace at its step). */
export function takesHostValue(code: number): boolean {
  return TABLE[code]?.host === true;
}

/** True if the instruction must be the last of its block. */
export function endsBlock(d: Decoded, flowChanges: boolean, isString: boolean): boolean {
  if (flowChanges || (isString && d.rep !== 0)) return true;
  return TABLE[d.code]?.ends === true;
}
