// Disassembly of recorded instruction bytes with iced-x86's formatter (Intel syntax), for `trace step`,
// `trace query` and `trace diff`. One decoder/formatter pair is reused; results are cached per (rip, bytes).
// iced-x86 is one 0.9 MB CommonJS file and a WebAssembly module: it is loaded on the first call (a `trace step`
// whose index holds the disassembly never loads it), and with `require`, which takes the file as is, where an ESM
// `import` would first have Node's cjs-module-lexer scan all of it for export names.
import { createRequire } from 'node:module';
import type * as Iced from 'iced-x86';

let iced: typeof Iced | undefined;

/** A disassembled instruction. */
export interface Disassembly {
  /** Intel-syntax text, e.g. `mov rax,[rbp-8]`. */
  text: string;
  /** Lower-case mnemonic, e.g. `mov`. */
  mnemonic: string;
  /** iced Mnemonic value. */
  mnemonicId: number;
  /** Whether the instruction is a near CALL. */
  isCall: boolean;
  /** Whether it is a near RET. */
  isRet: boolean;
}

let formatter: Iced.Formatter | undefined;
let scratch: Iced.Instruction | undefined;
const cache = new Map<string, Disassembly>();

/** Disassemble one instruction's bytes at `rip`. */
export function disassemble(rip: bigint, bytes: Uint8Array): Disassembly {
  const key = `${rip.toString(16)}:${Buffer.from(bytes).toString('hex')}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  iced ??= createRequire(import.meta.url)('iced-x86') as typeof Iced;
  const { Decoder, DecoderOptions, Formatter, FormatterSyntax, Instruction, Mnemonic } = iced;
  scratch ??= new Instruction();
  formatter ??= (() => {
    const f = new Formatter(FormatterSyntax.Intel);
    f.firstOperandCharIndex = 0;
    f.spaceAfterOperandSeparator = false;
    return f;
  })();
  const d = new Decoder(64, bytes, DecoderOptions.None);
  d.ip = rip;
  d.decodeOut(scratch);
  d.free();
  const m = scratch.mnemonic;
  const name = (Mnemonic as unknown as Record<number, string>)[m] ?? '?';
  const out: Disassembly = {
    text: scratch.isInvalid ? '(bad)' : formatter.format(scratch),
    mnemonic: name.toLowerCase(),
    mnemonicId: m,
    isCall: scratch.isCallNear || scratch.isCallNearIndirect,
    isRet: m === Mnemonic.Ret,
  };
  if (cache.size > 100_000) cache.clear();
  cache.set(key, out);
  return out;
}
