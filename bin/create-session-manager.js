#!/usr/bin/env node
// The generator is bundled into dist/ by `npm run build` (run by `npm ci` / `npm install` through `prepare`).
import { existsSync } from 'node:fs';

const bundle = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(bundle)) {
  console.error('create-session-manager is not built yet: run `npm run build` in its folder first.');
  process.exit(1);
}
const { main } = await import(bundle.href);
process.exitCode = await main(process.argv.slice(2));
