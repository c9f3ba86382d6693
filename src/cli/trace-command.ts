// The base of every `trace` command: an error that escapes a command's run() (a flag oclif cannot parse, a missing
// argument, or anything unforeseen) becomes one line on stderr, `trace <command>: <message>`, and exit status 2,
// instead of oclif's multi-line box or a JavaScript stack. oclif's own exits (--help, --version) pass through.
import { Command, Errors } from '@oclif/core';
import { writeSync } from 'node:fs';

// oclif colours some messages: the escape sequences are dropped from the one line
// eslint-disable-next-line no-control-regex
const ANSI_COLOR = /\x1b\[[0-9;]*m/g;

export abstract class TraceCommand extends Command {
  protected override async catch(err: Error & { code?: string }): Promise<unknown> {
    if (err instanceof Errors.ExitError || err.code === 'EEXIT') throw err;
    const lines = (err.message ?? String(err)).replace(ANSI_COLOR, '').split('\n').map((l) => l.replace(/\s+/g, ' ').trim())
      .filter((l) => l !== '' && !/^See more help/.test(l));
    const text = lines.reduce((t, l) => (t === '' ? l : `${t}${/[:;,]$/.test(t) ? ' ' : '; '}${l}`), '');
    writeSync(2, `trace ${this.id ?? ''}: ${text}${err instanceof Errors.CLIError ? ` (see trace ${this.id ?? ''} --help)` : ''}\n`);
    process.exit(2);
  }
}
