// The system calls the guest kernel did not carry out as Linux would: not implemented (ENOSYS), refused on purpose
// (an AF_INET socket: EACCES), or carried out only in part (an ignored flag). Counted per call and result, so
// that nothing is silent: `trace run`/`record` print them at exit, the summary and `trace info` list them.

/** One kind of unsupported call and how often the guest made it. */
export interface UnsupportedSyscall {
  readonly name: string; // system call name ("poll")
  readonly result: string; // what the guest got: an errno name ("ENOSYS", "EACCES") or "partial"
  readonly detail?: string; // what is missing, for a partial implementation or a refused variant
  count: number; // calls so far
}

/** The counts, in order of first occurrence. */
export class UnsupportedSyscalls {
  /** One entry per (name, result, detail). */
  readonly entries: UnsupportedSyscall[] = [];

  /** Counts one call; returns true if it is the first of its kind. */
  add(name: string, result: string, detail?: string): boolean {
    const e = this.entries.find((x) => x.name === name && x.result === result && x.detail === detail);
    if (e !== undefined) { e.count++; return false; }
    this.entries.push(detail === undefined ? { name, result, count: 1 } : { name, result, detail, count: 1 });
    return true;
  }

  /** Calls counted so far. */
  get total(): number {
    return this.entries.reduce((n, e) => n + e.count, 0);
  }
}

/** "poll ×2 (ENOSYS), madvise ×1 (partial: MADV_DONTNEED does not zero)" for the line at exit. */
export function formatUnsupported(list: readonly UnsupportedSyscall[]): string {
  return list.map((e) => `${e.name} ×${e.count} (${e.result}${e.detail !== undefined ? `: ${e.detail}` : ''})`).join(', ');
}
