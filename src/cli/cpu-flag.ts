// The `--cpu` flag of `trace run` and `trace record`: the CPU model (src/cpu/cpu-level.ts) the guest runs on.
import { Flags } from '@oclif/core';
import { CPU_LEVEL_NAMES, cpuLevelName, type CpuLevel, cpuLevelOf, DEFAULT_CPU_LEVEL } from '../cpu/cpu-level.js';

/** The flag definition (the names are oclif `options`, so a wrong name is a one-line usage error, status 2). */
export const cpuFlag = Flags.string({
  description: 'CPU model: what CPUID advertises and which instructions execute (others raise #UD, as on such a processor)',
  options: [...CPU_LEVEL_NAMES],
  default: cpuLevelName(DEFAULT_CPU_LEVEL),
});

/** The level of a parsed --cpu value. */
export function cpuFlagLevel(value: string): CpuLevel {
  return cpuLevelOf(value) ?? DEFAULT_CPU_LEVEL;
}
