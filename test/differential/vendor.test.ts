// The CPU model's vendor table (src/cpu/vendor-model.ts) is what the differential suite consults for
// vendor-dependent cases. These tests run the families that generate such cases twice on this host:
// - with every entry judged (host code rewritten, or the host's result turned into the model's
//   documented result): every entry must judge some cases and all cases must agree with the emulator,
//   whatever the host's vendor (the rewrites are exact on any x86-64 processor);
// - with nothing judged: entries the table says this host's vendor does NOT match must show real
//   differences (so the table's claims about the host are checked too), and entries it matches must not.
import { describe, expect, it } from 'vitest';
import { VENDOR_BEHAVIOUR_IDS, VENDOR_TABLE, VendorBehaviourId } from '../../src/cpu/vendor-model.js';
import { FAMILIES } from './families.js';
import { buildRunner, hostUnsupportedReason } from './harness.js';
import { FamilyRun, runFamily } from './suite.js';
import { hostVendor } from './vendor-judge.js';

const SEED = 20260101;
const FAMILY_NAMES = ['string', 'misc', 'shift'];

/** Run the families with the given entries judged; sum judged counts per entry and failures per entry. */
function runAll(exe: string, ids: VendorBehaviourId[]): { runs: FamilyRun[]; judged: Map<VendorBehaviourId, number> } {
  const runs = FAMILY_NAMES.map((n) => runFamily(FAMILIES.find((f) => f.name === n)!, exe, SEED, ids));
  const judged = new Map<VendorBehaviourId, number>();
  for (const r of runs) for (const [id, n] of r.judged) judged.set(id, (judged.get(id) ?? 0) + n);
  return { runs, judged };
}

const why = hostUnsupportedReason();
(why ? describe.skip : describe)(`the vendor table judges vendor-dependent cases${why ? ` (skipped: ${why})` : ''}`, () => {
  it('with every entry judged, each entry judges cases and all agree with the emulator on this host', () => {
    const exe = buildRunner();
    const { runs, judged } = runAll(exe, VENDOR_BEHAVIOUR_IDS);
    console.log(`vendor table, all entries judged: ${[...judged].map(([id, n]) => `${id} x${n}`).join(', ')}`);
    for (const id of VENDOR_BEHAVIOUR_IDS) expect(judged.get(id) ?? 0, `${id} judged no case`).toBeGreaterThan(0);
    for (const r of runs) expect(r.failed, r.report.split('\n').slice(0, 30).join('\n')).toBe(0);
  });

  const vendor = hostVendor();
  (vendor ? it : it.skip)(`with one entry not judged, this ${vendor ?? 'unknown-vendor'} host differs exactly where the table says`, () => {
    const exe = buildRunner();
    for (const id of VENDOR_BEHAVIOUR_IDS) {
      const claim = VENDOR_TABLE[id].hostMatchesModel[vendor!];
      if (claim === 'unverified') continue;
      const others = VENDOR_BEHAVIOUR_IDS.filter((x) => x !== id);
      const run = runFamily(FAMILIES.find((f) => f.name === familyOf(id))!, exe, SEED, others);
      console.log(`vendor table, ${id} not judged on this ${vendor} host: ${run.failed} of ${run.cases} ${run.family} cases differ`);
      if (claim) expect(run.failed, run.report.split('\n').slice(0, 30).join('\n')).toBe(0);
      else expect(run.failed, `${id}: the table says a ${vendor} host differs from the model`).toBeGreaterThan(0);
    }
  });
});

/** The family whose cases exercise an entry. */
function familyOf(id: VendorBehaviourId): string {
  const fam: Record<VendorBehaviourId, string> = {
    repA32ZeroCount: 'string', reservedNop0F0DRegister: 'misc', shiftDouble16LargeCount: 'shift', repCondFaultFlags: 'string',
  };
  return fam[id];
}
