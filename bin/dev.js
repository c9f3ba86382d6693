#!/usr/bin/env node
// Runs the CLI from a fresh build (npm run build) — same as run.js; kept for the oclif layout.
import { execute } from '@oclif/core';

await execute({ development: false, dir: import.meta.url });
