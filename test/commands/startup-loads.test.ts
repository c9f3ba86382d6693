// What a fresh `trace` process loads (no timing: `npm run bench startup` measures): the build's oclif manifest lists
// every command, and `trace --help`, `trace info T` and `trace step T` (its index built) load none of the heavy
// libraries they do not use. A preload module records every package the process resolves, through ES-module
// resolution and CommonJS require alike, into a file.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SLOW_TEST_MS, SPAWN_TIMEOUT_MS } from '../helpers/slow-machine.js';
import { MANIFEST_FILE } from '../../src/cli/write-manifest.js';
import { recordSample } from '../query/record-sample.js';

const REPO = resolve('.');
const tmp = mkdtempSync(join(tmpdir(), 'itrace-loads-'));
const HEAVY = ['apache-arrow', 'iced-x86', '@duckdb/node-api', 'msgpackr'];

// the preload: an ESM resolve hook (module.register) and a wrapper of CommonJS's Module._load, both appending the
// package name of every bare specifier to $LOADS_FILE
const HOOKS = join(tmp, 'hooks.mjs'), PRELOAD = join(tmp, 'preload.mjs');
writeFileSync(HOOKS, `import { appendFileSync } from 'node:fs';
export async function resolve(spec, ctx, next) {
  if (!/^(node:|\\.|\\/|file:|data:)/.test(spec)) appendFileSync(process.env.LOADS_FILE, spec + '\\n');
  return next(spec, ctx);
}
`);
writeFileSync(PRELOAD, `import Module, { register } from 'node:module';
import { appendFileSync } from 'node:fs';
register(${JSON.stringify(`file://${HOOKS}`)});
const load = Module._load;
Module._load = function (request, ...rest) {
  if (!/^(node:|\\.|\\/)/.test(request)) appendFileSync(process.env.LOADS_FILE, request + '\\n');
  return load.call(this, request, ...rest);
};
`);

let n = 0;
/** The packages a fresh `trace ARGS...` resolves (by name, scoped names whole), and its exit status. */
function loads(...args: string[]): { packages: Set<string>; status: number | null } {
  const file = join(tmp, `loads-${n++}.txt`);
  writeFileSync(file, '');
  const r = spawnSync(process.execPath, ['--import', PRELOAD, join(REPO, 'bin/run.js'), ...args], {
    cwd: REPO, encoding: 'utf8', timeout: SPAWN_TIMEOUT_MS, env: { ...process.env, LOADS_FILE: file },
  });
  const names = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '')
    .map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!));
  return { packages: new Set(names), status: r.status };
}

const heavyIn = (p: Set<string>): string[] => HEAVY.filter((h) => p.has(h));

describe('start-up: what a fresh trace process loads', () => {
  let trace: string;
  beforeAll(() => {
    trace = recordSample('hello-musl', []).dir;
    const r = spawnSync(process.execPath, [join(REPO, 'bin/run.js'), 'step', trace, '--at', '0'], { cwd: REPO, encoding: 'utf8', timeout: SPAWN_TIMEOUT_MS });
    expect(r.status).toBe(0); // builds the step index
  }, SLOW_TEST_MS);

  it('the manifest the build wrote lists every command of dist/src/commands', () => {
    // written by `npm run build` (which `npm test` runs first); rewriting it here could race other CLI tests
    const manifest = JSON.parse(readFileSync(join(REPO, MANIFEST_FILE), 'utf8')) as { commands: Record<string, unknown> };
    const ids = Object.keys(manifest.commands);
    const files = readdirSync(join(REPO, 'dist/src/commands'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.js')).map((f) => f.replace(/\.js$/, '').replace(/\/index$/, '').replaceAll('/', ':'));
    expect([...ids].sort()).toEqual(files.sort());
  });

  it('the preload sees the heavy libraries when a command uses them (trace query)', () => {
    const q = loads('query', trace, 'select count(*) from steps');
    expect(q.status).toBe(0);
    expect(q.packages.has('@duckdb/node-api')).toBe(true);
    expect(q.packages.has('@oclif/core')).toBe(true);
  });

  it('trace --help loads none of them', () => {
    const r = loads('--help');
    expect(r.status).toBe(0);
    expect(heavyIn(r.packages)).toEqual([]);
  });

  it('trace info loads Arrow (it reads the tables) but neither DuckDB nor iced-x86', () => {
    const r = loads('info', trace);
    expect(r.status).toBe(0);
    expect(heavyIn(r.packages)).toEqual(['apache-arrow']);
  });

  it('trace step with its index built loads none of them', () => {
    const r = loads('step', trace);
    expect(r.status).toBe(0);
    expect(heavyIn(r.packages)).toEqual([]);
  });
});
