// What `--format` and `--output` together ask for (trace query, trace diff --sql): a text format on stdout, or a
// file written by writeResult. Parquet needs --output; --output takes csv, json or parquet (by default the one its
// file name's extension names).
import { Format, FORMATS } from './format-result.js';
import { formatOfPath, OUTPUT_FORMATS, OutputFormat } from './write-result.js';

/** Every value `--format` accepts. */
export const FORMAT_FLAG_OPTIONS: readonly string[] = [...FORMATS, 'parquet'];

/** Where a result goes. */
export type OutputChoice = { readonly stdout: Format } | { readonly file: string; readonly format: OutputFormat };

/** Resolve the two flags (either may be absent) into an OutputChoice or a one-line error. */
export function outputChoice(format: string | undefined, output: string | undefined): OutputChoice | { error: string } {
  if (output === undefined) {
    if (format === 'parquet') return { error: '--format parquet writes a file: add --output FILE' };
    return { stdout: (format ?? 'table') as Format };
  }
  const f = format ?? formatOfPath(output);
  if (f === undefined) return { error: `--output ${output}: add --format ${OUTPUT_FORMATS.join('|')} (or name the file .csv, .json or .parquet)` };
  const known = OUTPUT_FORMATS.find((x) => x === f);
  if (known === undefined) return { error: `--output writes ${OUTPUT_FORMATS.join(', ')}, not ${f}` };
  return { file: output, format: known };
}
