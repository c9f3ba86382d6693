// Runs a program under valgrind's callgrind and reads back, per function, how many times it was called and its
// inclusive instruction count (Ir). The callgrind output format names functions once ("fn=(12) name") and refers to
// them by number afterwards ("cfn=(12)"); "calls=N target" lines follow a cfn= line and give the call count, and the
// line after them the inclusive cost of those calls.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Whether a tool is on PATH. */
export function have(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}

/** Call counts and self Ir per function name; inclusive Ir of the calls per "caller>callee". */
export interface CallgrindProfile {
  readonly calls: Map<string, number>;
  readonly selfIr: Map<string, number>;
  readonly inclusiveIr: Map<string, number>;
}

/** Run `image args` under callgrind (cwd and env as given) and parse its output. */
export function callgrind(image: string, args: readonly string[], cwd: string, env: Record<string, string>): CallgrindProfile {
  const out = join(mkdtempSync(join(tmpdir(), 'itrace-cg-')), 'callgrind.out');
  const r = spawnSync('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, image, ...args], { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`valgrind failed: ${r.stderr.toString()}`);
  return parseCallgrind(readFileSync(out, 'utf8'));
}

/** Parse a callgrind.out file. */
export function parseCallgrind(text: string): CallgrindProfile {
  const names = new Map<string, string>();
  const name = (spec: string): string => {
    const m = /^\((\d+)\)(?:\s+(.*))?$/.exec(spec.trim());
    if (m === null) return spec.trim();
    if (m[2] !== undefined) names.set(m[1]!, m[2]);
    return names.get(m[1]!) ?? spec.trim();
  };
  const calls = new Map<string, number>(), selfIr = new Map<string, number>(), inclusiveIr = new Map<string, number>();
  let fn = '', cfn = '';
  let afterCalls = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('fn=')) { fn = name(line.slice(3)); afterCalls = false; continue; }
    if (line.startsWith('cfn=')) { cfn = name(line.slice(4)); continue; }
    if (line.startsWith('calls=')) { calls.set(cfn, (calls.get(cfn) ?? 0) + Number(line.slice(6).split(' ')[0])); afterCalls = true; continue; }
    if (/^[+-]?\d|^\*/.test(line)) {
      const parts = line.trim().split(/\s+/);
      if (afterCalls) { // inclusive cost of the calls just listed
        afterCalls = false;
        inclusiveIr.set(`${fn}>${cfn}`, (inclusiveIr.get(`${fn}>${cfn}`) ?? 0) + Number(parts[1] ?? 0));
        continue;
      }
      selfIr.set(fn, (selfIr.get(fn) ?? 0) + Number(parts[1] ?? 0));
      continue;
    }
    if (/^(fl|fi|fe|ob|cob|cfi|cfl)=/.test(line)) { const m = /^\w+=(.*)$/.exec(line)!; name(m[1]!); }
  }
  return { calls, selfIr, inclusiveIr };
}
