// The selectable CPU models (`--cpu`): the x86-64 micro-architecture levels of the psABI. A level decides what
// CPUID advertises (cpuid.ts) and what executes: an instruction whose CPUID features (instruction-level.ts)
// belong to a higher level raises #UD naming it, as on a processor without the feature. No iced import here:
// the trace schema and the CLI read these names without loading the decoder.

/** The names `--cpu` accepts and meta.json's `cpu` holds. */
export const CPU_LEVEL_NAMES = ['x86-64', 'x86-64-v2', 'x86-64-v3'] as const;

/** A CPU model by name. */
export type CpuLevelName = (typeof CPU_LEVEL_NAMES)[number];

/** A CPU model as a number: 1 x86-64 (baseline: SSE2, MMX), 2 x86-64-v2, 3 x86-64-v3. */
export type CpuLevel = 1 | 2 | 3;

/** The model of `trace run`/`trace record` without --cpu, and of traces whose meta.json predates `cpu`. */
export const DEFAULT_CPU_LEVEL: CpuLevel = 2;

/** The level of a name, or undefined when the name is not a model. */
export function cpuLevelOf(name: string): CpuLevel | undefined {
  const i = (CPU_LEVEL_NAMES as readonly string[]).indexOf(name);
  return i < 0 ? undefined : ((i + 1) as CpuLevel);
}

/** The name of a level. */
export function cpuLevelName(level: CpuLevel): CpuLevelName {
  return CPU_LEVEL_NAMES[level - 1]!;
}
