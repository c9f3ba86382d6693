// `trace step TRACE -i`: a HyperDbg-style prompt over a StepSession (readline, history kept in
// `<trace>/step-history`, help). Every verb moves or shows, then the landing line is printed.
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { MoveRequest, StepSession } from './step-session.js';

/** The help text. */
export const HELP = [
  'i [N]          step in (following ring switches)        i- [N]   reverse step in',
  'p [N]          step over calls, REP, syscalls, faults   p- [N]   reverse step over',
  'gu [N]         step out of the current function          gu- [N]  reverse step out (to the CALL)',
  'g ADDR|SYM     run to the next execution of an address   g- ADDR  to the previous one',
  'ba ADDR[:LEN]  run to the next write to a range           ba- ADDR[:LEN]  to the previous write',
  'r [all]        registers and flags (all: x87, MMX, YMM)   db ADDR[:LEN]   memory bytes',
  '!at SEQ        go to a step                               help, q',
];

/** Parse and run one command line; returns the lines to print, or null to quit. */
export function runCommand(s: StepSession, line: string): string[] | null {
  const [verb = '', ...rest] = line.trim().split(/\s+/);
  const arg = rest.join(' ');
  const n = arg === '' ? 1 : Number(arg);
  const moves: Record<string, MoveRequest> = {
    i: { motion: 'in' }, 't': { motion: 'in' }, p: { motion: 'over' }, gu: { motion: 'out' },
    'i-': { motion: 'in', back: true }, 't-': { motion: 'in', back: true }, 'p-': { motion: 'over', back: true }, 'gu-': { motion: 'out', back: true },
  };
  let req: MoveRequest | undefined;
  if (verb === '') return [];
  if (verb === 'q' || verb === 'quit' || verb === 'exit') return null;
  if (verb === 'help' || verb === '?' || verb === 'h') return HELP;
  if (verb === 'r') return [s.line(s.position), ...(arg === 'all' ? s.allRegisters() : s.registerBlock())];
  if (verb === 'db') {
    if (arg === '') return ['db needs an address'];
    const d = s.dump(arg);
    return 'error' in d ? [d.error] : d;
  }
  if (verb === '!at') {
    const e = s.goto(Number(arg));
    return e !== undefined ? [e.error] : [s.line(s.position)];
  }
  if (verb in moves) {
    if (!Number.isInteger(n) || n < 1) return [`${verb}: the count must be a positive integer`];
    req = { ...moves[verb], count: n };
  } else if (verb === 'g' || verb === 'g-') {
    if (arg === '') return [`${verb} needs an address or symbol`];
    req = { to: arg, back: verb === 'g-' };
  } else if (verb === 'ba' || verb === 'ba-') {
    if (arg === '') return [`${verb} needs an address`];
    req = { write: arg, back: verb === 'ba-' };
  } else {
    return [`unknown command ${verb} (help lists them)`];
  }
  const r = s.move(req);
  if ('error' in r) return [r.error];
  const out = r.landings.map((l) => s.line(l.seq));
  if (r.note !== undefined) out.push(r.note);
  return out;
}

/** Run the prompt until q or end of input; the position is saved after every command. */
export async function interactive(s: StepSession, input: NodeJS.ReadableStream, output: NodeJS.WritableStream): Promise<void> {
  const histPath = join(s.dir, 'step-history');
  let history: string[] = [];
  try { history = readFileSync(histPath, 'utf8').split('\n').filter((l) => l !== '').reverse().slice(0, 500); } catch { /* none yet */ }
  const rl = createInterface({ input, output, history, historySize: 500, terminal: (output as NodeJS.WriteStream).isTTY === true });
  const say = (l: string): void => { output.write(`${l}\n`); };
  say(`${s.index.steps.toLocaleString('en-US')} steps; help lists the commands`);
  say(s.line(s.position));
  const prompt = (): void => { rl.setPrompt(`${s.position}> `); rl.prompt(); };
  prompt();
  for await (const line of rl) {
    if (line.trim() !== '') { try { appendFileSync(histPath, `${line}\n`); } catch { /* read-only trace */ } }
    const out = runCommand(s, line);
    if (out === null) break;
    for (const l of out) say(l);
    s.savePosition();
    prompt();
  }
  rl.close();
}
