// The text form of a diff: the first divergence HyperDbg-style (both sides' step lines, the differing values,
// the cause, the registers side by side with the differing ones marked), then regions, convergence, profile,
// system calls and page faults.
import { DiffResult, DivergenceSide, SideStep } from './diff-traces.js';

const n = (x: number): string => x.toLocaleString('en-US');
const addr = (h: string): string => (h === '' ? '-'.repeat(17) : `${h.slice(0, 8)}\`${h.slice(8)}`);

function stepLine(tag: string, s: SideStep, mark: boolean): string {
  const bytes = (s.bytes.match(/../g) ?? []).join(' ');
  return `${mark ? '>' : ' '}${tag} ${String(s.seq).padStart(10)}  r${s.cpl}  ${addr(s.rip)}  ${bytes.padEnd(24)}  ${s.disassembly.padEnd(30)}${s.symbol !== null ? `  <${s.symbol}>` : ''}`;
}

function values(tag: string, d: DivergenceSide): string[] {
  const out = Object.entries(d.values).map(([k, v]) => `    ${tag} ${k.padEnd(7)} ${v}`);
  for (const m of d.memory) out.push(`    ${tag} ${m.access === 'r' ? 'read ' : 'write'} ${addr(m.address)}:${m.size}  ${m.value}`);
  return out;
}

/** Text lines of a diff; `limit` rows per list. */
export function formatDiff(r: DiffResult, limit: number): string[] {
  const out: string[] = [];
  const head = (t: string, x: DiffResult['a']): string => `${t}  ${x.dir}  (${x.argv.join(' ')}; ${n(x.steps)} steps; exit ${x.exitStatus ?? '-'})`;
  out.push(head('A', r.a), head('B', r.b));
  if (!r.sameImage) out.push('   different program images: steps compared by symbol+offset');
  if (r.identical || r.firstDivergence === null) {
    out.push('', 'identical: every step, register change and memory access is the same in both runs');
    for (const c of r.causes) out.push(`   (${c.description}: A ${c.a}  B ${c.b}; never reached the guest's results)`);
    return out;
  }
  const d = r.firstDivergence;
  out.push('', `first divergence at step ${n(d.seq)} (${d.kinds.join(', ')})`);
  const ctxA = d.a.context, ctxB = d.b.context;
  for (let i = 0; i < Math.max(ctxA.length, ctxB.length); i++) {
    const x = ctxA[i], y = ctxB[i];
    if (x !== undefined) out.push(stepLine('A', x, x.seq === d.seq));
    if (y !== undefined && (x === undefined || x.seq !== y.seq || x.rip !== y.rip || x.bytes !== y.bytes || x.seq >= d.seq)) out.push(stepLine('B', y, y.seq === d.seq));
  }
  if (ctxB.length === 0) out.push('>B  (the trace ends before this step)');
  const vals = [...values('A', d.a), ...values('B', d.b)];
  if (vals.length > 0) out.push('  differing values:', ...vals);
  if (d.cause !== null) {
    out.push(`  cause: ${d.cause.description}${d.cause.seqA < 0 ? ' (before the first step)' : ''}`, `    A ${d.cause.a}`, `    B ${d.cause.b}`, `    (${d.cause.reason})`);
    if (d.firstCause !== null && d.firstCause.description !== d.cause.description) out.push(`  first difference in the inputs: ${d.firstCause.description} (A ${d.firstCause.a}, B ${d.firstCause.b})`);
  } else out.push('  cause: no difference in argv, environment, inputs or system-call results before this step');
  const names = Object.keys(d.a.registers);
  if (names.length > 0) {
    out.push(`  registers before step ${n(d.seq)}:          A                  B`);
    for (const k of names) {
      const va = d.a.registers[k] ?? '', vb = d.b.registers[k] ?? '';
      out.push(`  ${va !== vb ? '*' : ' '} ${k.padEnd(7)} ${va.padStart(16)}   ${vb.padStart(16)}`);
    }
  }
  if (r.alignment !== null) {
    out.push('', `aligned on the call tree (depth <= ${r.alignment.depth}): ${n(r.alignment.matched)} calls matched of ${n(r.alignment.callsA)} (A) and ${n(r.alignment.callsB)} (B)${r.alignment.greedy ? ', greedy' : ''}`);
    const span = (s: [number, number] | null): string => (s === null ? '-' : `${n(s[0])}..${n(s[1])} (${n(s[1] - s[0])} steps)`);
    for (const g of r.regions.slice(0, limit)) {
      const what = g.kind === 'only-a' ? 'only in A' : g.kind === 'only-b' ? 'only in B' : 'different length';
      out.push(`  ${what.padEnd(16)} ${'  '.repeat(Math.min(g.depth, 6))}${g.symbol}  A ${span(g.a)}  B ${span(g.b)}`);
    }
    if (r.regions.length > limit) out.push(`  ... ${n(r.regions.length - limit)} more regions (--limit)`);
    out.push(r.converge === null ? '  the runs do not converge again before the end'
      : `  converge again at the call of ${r.converge.symbol}: A step ${n(r.converge.seqA)}, B step ${n(r.converge.seqB)}`);
  }
  const prof = r.profile.filter((p) => p.stepsA !== p.stepsB || p.callsA !== p.callsB);
  if (prof.length > 0) {
    out.push('', 'profile (steps per function, largest change first):', `  ${'symbol'.padEnd(28)} ${'steps A'.padStart(12)} ${'steps B'.padStart(12)} ${'delta'.padStart(12)} ${'calls A'.padStart(9)} ${'calls B'.padStart(9)}`);
    for (const p of prof.slice(0, limit)) {
      const delta = p.stepsB - p.stepsA;
      out.push(`  ${p.symbol.padEnd(28)} ${n(p.stepsA).padStart(12)} ${n(p.stepsB).padStart(12)} ${((delta > 0 ? '+' : '') + n(delta)).padStart(12)} ${n(p.callsA).padStart(9)} ${n(p.callsB).padStart(9)}`);
    }
    if (prof.length > limit) out.push(`  ... ${n(prof.length - limit)} more functions (--limit)`);
  }
  if (r.syscalls.length > 0) {
    out.push('', 'system calls that differ:');
    for (const s of r.syscalls.slice(0, limit)) {
      const side = (x: { entry: number; result: string } | null): string => (x === null ? '-' : `step ${n(x.entry)} = ${x.result}`);
      out.push(`  ${s.kind.padEnd(7)} ${s.name.padEnd(16)} A ${side(s.a)}  B ${side(s.b)}`);
    }
  }
  if (r.pageFaults.a !== r.pageFaults.b || r.pageFaults.bySymbol.length > 0) {
    out.push('', `page faults: A ${n(r.pageFaults.a)}, B ${n(r.pageFaults.b)}`);
    for (const p of r.pageFaults.bySymbol.slice(0, limit)) out.push(`  ${p.symbol.padEnd(28)} A ${n(p.a)}  B ${n(p.b)}`);
  }
  return out;
}
