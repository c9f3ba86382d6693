// The processes, threads and schedule of a machine as processes.json stores them.
import type { ProcessTable } from '../guest/process-table.js';
import type { TraceProcesses } from '../trace/processes-file.js';

export function processesOf(t: ProcessTable): TraceProcesses {
  return {
    processes: [...t.procs.values()].map((p) => {
      const ended = p.state !== 'live', killed = ended && (p.waitStatus & 0x7f) !== 0;
      return {
        pid: p.pid, ppid: p.ppid, image: p.image, argv: [...p.argv], forkSeq: p.forkStep, execSeqs: [...p.execSteps], exitSeq: p.exitStep,
        exitStatus: ended && !killed ? (p.waitStatus >> 8) & 0xff : null, signal: killed ? p.waitStatus & 0x7f : null,
      };
    }),
    threads: t.tasks.map((k) => ({ tid: k.tid, pid: k.proc.pid, firstSeq: k.firstStep, lastSeq: k.lastStep })),
    schedule: t.schedule.map((e) => ({ ...e })),
  };
}
