// `npm run bench gdb [TRACE]`: the gdb server's packet latencies on a recording of 20 M+ steps (compute-musl 11000,
// recorded first unless a trace is given, as argument or in ITRACE_GDB_TRACE): each request parsed, answered and
// framed as over the wire, from random positions, as median and max: register and memory reads after a jump,
// single steps both ways, continue and reverse-continue to breakpoints (a function called often, one called once)
// and to a write watchpoint, reverse-continue to the start; and the one-time cost of the read index (rwatch).
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { frame } from '../src/gdb/connection.js';
import { buildReadIndex } from '../src/gdb/read-index.js';
import { parseRequest } from '../src/gdb/request.js';
import { GdbServer } from '../src/gdb/server.js';
import { StepSession } from '../src/replayer/step-session.js';
import { recordBenchSample } from './record-sample.js';

/** One latency series. */
export interface GdbSeries { name: string; count: number; firstMs: number; medianMs: number; maxMs: number; sample: string }

/** What the benchmark measured. */
export interface GdbBench { steps: number; recordSeconds: number | null; openSeconds: number; readIndexSeconds: number; series: GdbSeries[] }

/** Run it on `trace` (recorded from `image` 11000 when absent). */
export async function benchGdbServer(image: string, root: string, trace?: string): Promise<GdbBench> {
  let dir = trace ?? process.env.ITRACE_GDB_TRACE, recordSeconds: number | null = null, tmp: string | undefined;
  if (dir === undefined) ({ dir, tmp, recordSeconds } = recordBenchSample(image, root, 'gdb'));
  try {
    const t0 = performance.now();
    const session = StepSession.open(dir, { at: 0 });
    if ('error' in session) throw new Error(session.error);
    const server = new GdbServer(session);
    const openSeconds = (performance.now() - t0) / 1000;
    const N = server.timeline.steps;
    let seed = 11;
    const rand = (n: number): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % n; };
    const randomVisible = (): number => server.timeline.owner(rand(N));
    // one request as over the wire: parse, answer, frame the reply
    const ask = async (packet: string): Promise<string> => {
      const a = await server.handle(parseRequest(Buffer.from(packet, 'latin1')));
      let last = '';
      for (const r of a.replies) last = frame(typeof r === 'string' ? Buffer.from(r, 'latin1') : r).toString('latin1');
      return last;
    };
    const out: GdbSeries[] = [];
    const measure = async (name: string, count: number, setup: () => void, packet: () => string): Promise<void> => {
      const times: number[] = [];
      let sample = '';
      for (let k = 0; k < count; k++) {
        setup();
        const p = packet(), t = performance.now();
        sample = await ask(p);
        times.push(performance.now() - t);
      }
      // the first request of a series may load an index file or decode new blocks; the rest show the steady state
      const first = times.shift()!;
      times.sort((a, b) => a - b);
      out.push({ name, count, firstMs: first, medianMs: times[times.length >> 1]!, maxMs: times[times.length - 1]!, sample: sample.slice(0, 40) });
    };
    const hex = (a: bigint): string => a.toString(16);
    const sym = (name: string): bigint => {
      const s = session.symbols.byName(name)[0];
      if (s === undefined) throw new Error(`no symbol ${name}`);
      return s.address;
    };
    await measure('g (all registers) after a jump', 200, () => server.seek(randomVisible()), () => 'g');
    await measure('g at the same position', 200, () => undefined, () => 'g');
    await measure('m RSP,64 after a jump', 200, () => server.seek(randomVisible()), () => {
      const st = server.session.state;
      if (st.position !== server.position) st.seek(server.position);
      const u = st.delta.state.u32;
      return `m${hex((BigInt(u[9]!) << 32n) | BigInt(u[8]!))},40`;
    });
    await measure('s (step) from a random position', 200, () => server.seek(randomVisible()), () => 's');
    await measure('bs (reverse step) from a random position', 200, () => server.seek(randomVisible()), () => 'bs');
    const cmp = sym('cmp_u64'), main = sym('main');
    await ask(`Z0,${hex(cmp)},1`);
    await measure('c to a breakpoint on cmp_u64 (called often)', 100, () => server.seek(randomVisible()), () => 'c');
    await measure('bc to a breakpoint on cmp_u64', 100, () => server.seek(randomVisible()), () => 'bc');
    await ask(`z0,${hex(cmp)},1`);
    await ask(`Z0,${hex(main)},1`);
    await measure('bc to a breakpoint on main (run once, far back)', 100, () => server.seek(randomVisible()), () => 'bc');
    await ask(`z0,${hex(main)},1`);
    // a data symbol (the trace's symbol table has functions only): from nm, when binutils are installed
    const nm = spawnSync('nm', [session.reader.meta.image], { encoding: 'utf8' });
    const m = /^([0-9a-f]+) [a-zA-Z] rng_state$/m.exec(nm.stdout ?? '');
    const rng = m !== null ? BigInt(`0x${m[1]}`) : undefined;
    if (rng !== undefined) {
      await ask(`Z2,${hex(rng)},8`);
      await measure('bc to a write watchpoint on rng_state', 100, () => server.seek(randomVisible()), () => 'bc');
      await measure('c to a write watchpoint on rng_state', 100, () => server.seek(randomVisible()), () => 'c');
      await ask(`z2,${hex(rng)},8`);
    }
    await measure('bc with no breakpoint (to the start)', 50, () => server.seek(randomVisible()), () => 'bc');
    const t1 = performance.now();
    const reads = buildReadIndex(session.reader);
    if ('error' in reads) throw new Error(reads.error);
    const readIndexSeconds = (performance.now() - t1) / 1000;
    session.closeSync();
    return { steps: N, recordSeconds, openSeconds, readIndexSeconds, series: out };
  } finally {
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  }
}
