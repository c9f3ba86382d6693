// Splitting a command line into the tool's own part and the guest's arguments: everything after the first
// `--` belongs to the guest verbatim (a later `--` included).

/** The tool's own arguments and the guest's tail. */
export function splitGuestArgv(raw: readonly string[]): { own: string[]; guestTail: string[] } {
  const dashes = raw.indexOf('--');
  return dashes < 0 ? { own: [...raw], guestTail: [] } : { own: raw.slice(0, dashes), guestTail: raw.slice(dashes + 1) };
}
