// Build step (`npm run build`): writes oclif.manifest.json at the package root, the list of commands with their
// flags, arguments and help text. With it oclif answers `trace --help` without importing any command, and runs a
// command after importing only that command's module; without it oclif imports every command (and so the whole
// library) on each call. It is what `oclif manifest` writes, made with @oclif/core's own Plugin loader, so no
// second CLI is needed at build time. The file is generated (git-ignored): a stale one would hide new commands,
// so the build rewrites it every time.
import { Plugin } from '@oclif/core';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The manifest's file name; oclif looks for it at the package root. */
export const MANIFEST_FILE = 'oclif.manifest.json';

/** Writes the manifest of the package at `root` and returns the command ids it lists. */
export async function writeManifest(root: string): Promise<string[]> {
  const path = join(root, MANIFEST_FILE);
  rmSync(path, { force: true });
  const plugin = new Plugin({ root, type: 'core', ignoreManifest: true, errorOnManifestCreate: true });
  await plugin.load();
  writeFileSync(path, JSON.stringify(plugin.manifest, null, 2) + '\n');
  return Object.keys(plugin.manifest.commands);
}

// run as a script: `node dist/src/cli/write-manifest.js`
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = join(fileURLToPath(import.meta.url), '..', '..', '..', '..');
  const ids = await writeManifest(root);
  process.stdout.write(`${MANIFEST_FILE}: ${ids.length} commands (${ids.join(', ')})\n`);
}
