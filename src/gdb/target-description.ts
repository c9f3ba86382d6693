// The target description gdb reads with qXfer:features:read:target.xml: the x86-64 architecture, the Linux
// OS ABI, and one <feature> per group of GDB_REGISTERS, in that table's order (so gdb's register numbers are
// the table's indices). The flag and vector types the registers use are defined in the features that use them.
import { GDB_REGISTERS, GdbFeature } from './gdb-registers.js';

const EFLAGS_BITS: [string, number][] = [['CF', 0], ['', 1], ['PF', 2], ['AF', 4], ['ZF', 6], ['SF', 7], ['TF', 8], ['IF', 9],
  ['DF', 10], ['OF', 11], ['NT', 14], ['RF', 16], ['VM', 17], ['AC', 18], ['VIF', 19], ['VIP', 20], ['ID', 21]];
const MXCSR_BITS: [string, number][] = [['IE', 0], ['DE', 1], ['ZE', 2], ['OE', 3], ['UE', 4], ['PE', 5], ['DAZ', 6], ['IM', 7],
  ['DM', 8], ['ZM', 9], ['OM', 10], ['UM', 11], ['PM', 12], ['FZ', 15]];

function flags(id: string, bits: [string, number][]): string {
  return `<flags id="${id}" size="4">${bits.map(([n, b]) => `<field name="${n}" start="${b}" end="${b}"/>`).join('')}</flags>`;
}

/** Type definitions a feature needs before its registers. */
const TYPES: Partial<Record<GdbFeature, string>> = {
  'org.gnu.gdb.i386.core': flags('i386_eflags', EFLAGS_BITS),
  'org.gnu.gdb.i386.sse': [
    '<vector id="v8bf16" type="bfloat16" count="8"/>', '<vector id="v8h" type="ieee_half" count="8"/>',
    '<vector id="v4f" type="ieee_single" count="4"/>', '<vector id="v2d" type="ieee_double" count="2"/>',
    '<vector id="v16i8" type="int8" count="16"/>', '<vector id="v8i16" type="int16" count="8"/>',
    '<vector id="v4i32" type="int32" count="4"/>', '<vector id="v2i64" type="int64" count="2"/>',
    '<union id="vec128"><field name="v8_bfloat16" type="v8bf16"/><field name="v8_half" type="v8h"/>' +
      '<field name="v4_float" type="v4f"/><field name="v2_double" type="v2d"/><field name="v16_int8" type="v16i8"/>' +
      '<field name="v8_int16" type="v8i16"/><field name="v4_int32" type="v4i32"/><field name="v2_int64" type="v2i64"/>' +
      '<field name="uint128" type="uint128"/></union>',
    flags('i386_mxcsr', MXCSR_BITS),
  ].join(''),
};

/** target.xml. */
export function targetDescription(): string {
  const features: string[] = [];
  let current: GdbFeature | undefined;
  let body: string[] = [];
  const close = (): void => { if (current !== undefined) features.push(`<feature name="${current}">${TYPES[current] ?? ''}${body.join('')}</feature>`); };
  GDB_REGISTERS.forEach((r, n) => {
    if (r.feature !== current) { close(); current = r.feature; body = []; }
    body.push(`<reg name="${r.name}" bitsize="${r.bits}" type="${r.type}" regnum="${n}"${r.group !== undefined ? ` group="${r.group}"` : ''}/>`);
  });
  close();
  return '<?xml version="1.0"?><!DOCTYPE target SYSTEM "gdb-target.dtd"><target version="1.0">' +
    `<architecture>i386:x86-64</architecture><osabi>GNU/Linux</osabi>${features.join('')}</target>`;
}
