// Software TLB: direct-mapped caches from a linear page number to a physical page base, one per
// (privilege class, access kind), so the fast path of a memory access is one tag compare.

/** Number of entries per TLB (power of two). */
export const TLB_ENTRIES = 4096;
/** Index mask for TLB_ENTRIES. */
export const TLB_MASK = TLB_ENTRIES - 1;

/** One direct-mapped TLB. */
export class TlbSet {
  /** Linear page number (hi * 2^20 + (lo >>> 12)) cached in each entry, or -1. */
  readonly tag = new Float64Array(TLB_ENTRIES).fill(-1);
  /** Physical byte address of the page for each entry. */
  readonly phys = new Int32Array(TLB_ENTRIES);

  flush(): void {
    this.tag.fill(-1);
  }

  /** Drop the entry for one linear page number, if cached. */
  flushPage(vpn: number): void {
    const i = vpn & TLB_MASK;
    if (this.tag[i] === vpn) this.tag[i] = -1;
  }
}

/** The TLBs of one privilege class: reads, writes (only pages already dirty and holding no decoded code), fetches. */
export class TlbClass {
  /** Entries valid for data reads. */
  readonly read = new TlbSet();
  /** Entries valid for data writes. */
  readonly write = new TlbSet();
  /** Entries valid for instruction fetch. */
  readonly fetch = new TlbSet();

  flush(): void {
    this.read.flush(); this.write.flush(); this.fetch.flush();
  }

  flushPage(vpn: number): void {
    this.read.flushPage(vpn); this.write.flushPage(vpn); this.fetch.flushPage(vpn);
  }
}

/** Linear page number of an address given as lo/hi halves. */
export function vpnOf(lo: number, hi: number): number {
  return hi * 1048576 + (lo >>> 12);
}
