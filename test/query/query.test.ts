// trace query over a recorded sample: the index is built once and reused until the trace changes; the views and
// macros answer from the recorded data (checked against the Arrow tables read directly); SQL errors are values.
import { spawnSync } from 'node:child_process';
import { renameSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { QuerySession } from '../../src/query/query-session.js';
import { TraceReader } from '../../src/trace/trace-reader.js';
import { recordSample } from './record-sample.js';

let dir = '';
let steps = 0;

async function rows(sql: string): Promise<unknown[][]> {
  const s = await QuerySession.open([{ alias: 't', dir }]);
  if ('error' in s) throw new Error(s.error);
  try {
    const r = await s.run(sql);
    if ('error' in r) throw new Error(r.error);
    return r.rows;
  } finally {
    s.closeSync();
  }
}

beforeAll(() => {
  const r = recordSample('compute-musl', ['100']);
  dir = r.dir;
  steps = r.summary.steps;
});

describe('trace query', () => {
  it('builds the index once and rebuilds it when the trace changes', async () => {
    expect((await rows('select count(*) from insns'))[0]![0]).toBe(BigInt(steps));
    const built = statSync(join(dir, 'query.duckdb')).mtimeMs;
    await rows('select 1');
    expect(statSync(join(dir, 'query.duckdb')).mtimeMs).toBe(built);
    const later = new Date(Date.now() + 5000);
    utimesSync(join(dir, 'meta.json'), later, later);
    await rows('select 1');
    expect(statSync(join(dir, 'query.duckdb')).mtimeMs).not.toBe(built);
    // the Parquet files behind steps and regs are part of the index: one missing is a rebuild
    const rebuilt = statSync(join(dir, 'query.duckdb')).mtimeMs;
    rmSync(join(dir, 'query.regs.parquet'));
    expect((await rows('select count(*) from regs'))[0]![0]).toBeGreaterThan(0n);
    expect(statSync(join(dir, 'query.duckdb')).mtimeMs).not.toBe(rebuilt);
  });

  it('a moved trace is re-indexed (the views name their Parquet files by absolute path)', async () => {
    const moved = `${dir}-moved`;
    renameSync(dir, moved);
    try {
      const s = await QuerySession.open([{ alias: 't', dir: moved }]);
      if ('error' in s) throw new Error(s.error);
      try {
        const r = await s.run('select count(*) from steps');
        expect('error' in r ? r.error : r.rows[0]![0]).toBe(BigInt(steps));
      } finally {
        s.closeSync();
      }
    } finally {
      renameSync(moved, dir);
    }
  });

  it('insns carries the recorded rip, ring and bytes with disassembly and symbols', async () => {
    const reader = TraceReader.open(dir);
    if ('error' in reader) throw new Error(reader.error);
    const insns = reader.readTable('insns').columns;
    const rip = insns.u64('rip'), cpl = insns.ints('cpl');
    const r = await rows('select seq, rip, ring, mnemonic, symbol from insns where seq in (0, 1000, 5000) order by seq');
    for (const [seq, ripv, ring] of r) {
      expect(ripv).toBe(rip[Number(seq)]);
      expect(ring).toBe(cpl[Number(seq)]);
    }
    const main = await rows("select count(*) from insns where symbol = 'main' and mnemonic is not null");
    expect(Number(main[0]![0])).toBeGreaterThan(100);
  });

  it('state_at and reg_at give the registers before a step (forward-filled from regs and checkpoint 0)', async () => {
    const reader = TraceReader.open(dir);
    if ('error' in reader) throw new Error(reader.error);
    const regs = reader.readTable('regs').columns;
    const seq = regs.u64('seq'), reg = regs.ints('reg'), value = regs.u64('value');
    const at = 20_000;
    let rax: bigint | undefined;
    for (let i = 0; i < regs.length && seq[i]! < BigInt(at); i++) if (reg[i] === 0) rax = value[i]!;
    const s = await rows(`select value from state_at(${at}) where reg = 'rax'`);
    const r = await rows(`select reg_at('rax', ${at})`);
    expect(s[0]![0]).toBe(rax);
    expect(r[0]![0]).toBe(rax);
    const init = await rows("select (select initial from registers where name = 'rsp') = (select value from state_at(0) where reg = 'rsp')");
    expect(init[0]![0]).toBe(true);
  });

  it('last_write finds the last write covering a byte before a step', async () => {
    const w = await rows("select seq, addr, value from mem where access = 'w' and size = 8 order by seq limit 1 offset 500");
    const [wseq, waddr] = w[0]! as [bigint, bigint];
    const lw = await rows(`select seq, addr from last_write(${waddr + 3n}, ${wseq + 1n})`);
    expect(lw[0]![0]).toBe(wseq);
    const direct = await rows(`select max(seq) from mem where access = 'w' and addr <= ${waddr + 3n} and ${waddr + 3n} < addr + size and seq < ${wseq + 1n}`);
    expect(direct[0]![0]).toBe(wseq);
  });

  it('page faults, system calls and calls are consistent with the trace', async () => {
    const pf = await rows('select count(*), min(handler_steps), count(reexec_seq) from page_faults');
    expect(Number(pf[0]![0])).toBeGreaterThan(0);
    expect(pf[0]![1]).toBeGreaterThan(0n);
    expect(pf[0]![2]).toBe(pf[0]![0]);
    // kernel_steps equals the ring-0 steps counted between entry and return
    const k = await rows('select s.kernel_steps, (select count(*) from steps x where x.seq > s.entry_seq and x.seq <= s.return_seq and x.ring = 0) from syscalls s where return_seq is not null');
    for (const [a, b] of k) expect(a).toBe(b);
    const c = await rows("select count(*) from calls where symbol = 'merge_sort'");
    expect(c[0]![0]).toBe(199n); // 2n - 1 calls for n = 100
    const excl = await rows('select sum(exclusive) = (select sum(inclusive) from calls where depth = 0) from calls');
    expect(excl[0]![0]).toBe(true);
  });

  it('the command prints tables, JSON, the schema, and SQL errors without a stack', () => {
    const run = (...a: string[]): { out: string; err: string; status: number | null } => {
      const r = spawnSync(process.execPath, ['bin/run.js', 'query', ...a], { encoding: 'utf8' });
      return { out: r.stdout, err: r.stderr, status: r.status };
    };
    const j = run(dir, "select name, entry_seq from syscalls order by entry_seq limit 2", '--format', 'json');
    expect(j.status).toBe(0);
    expect((JSON.parse(j.out) as { name: string }[])[0]!.name).toBe('arch_prctl');
    const csv = run(dir, "select hexaddr(rip) a from insns where seq = 0", '--format', 'csv');
    expect(csv.out).toMatch(/^a\n0x[0-9a-f]+\n$/);
    const schema = run(dir);
    expect(schema.out).toMatch(/^calls: /m);
    expect(schema.out).toMatch(/^ {2}inclusive +UBIGINT/m);
    const bad = run(dir, 'select nope from insns');
    expect(bad.status).toBe(2);
    expect(bad.err).toMatch(/Binder Error/);
    expect(bad.err).not.toMatch(/\n\s+at /);
    const two = run(`a=${dir}`, `b=${dir}`, 'select (select count(*) from a.insns) = (select count(*) from b.insns) same');
    expect(two.out).toMatch(/true/);
  });
});
