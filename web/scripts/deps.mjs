// `node web/scripts/deps.mjs`: installs the pinned npm packages (`npm ci`) when web/node_modules is
// missing or older than web/package-lock.json, and does nothing otherwise. Uses nothing but Node,
// so it runs before any package is there. `$NPM` names the npm to run (default `npm`).
//
// package.json's `allowScripts` denies esbuild's postinstall (`node install.js`, which only swaps
// its JavaScript launcher for the native binary it already ships in @esbuild/linux-x64): npm 11
// does not run a script its policy does not cover, and esbuild works without it (tsx and Vite
// call it through its JavaScript API), so `npm ci` runs no install script and has no warning to
// judge.
//
// "Older" is the time of node_modules/.package-lock.json, which npm writes at the end of every
// install: an install that was interrupted, or a lock file changed by a pull, installs again.
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = join(dirname(fileURLToPath(import.meta.url)), '..');
const lock = join(web, 'package-lock.json');
const installed = join(web, 'node_modules', '.package-lock.json');

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

const lockTime = mtime(lock);
if (lockTime === undefined) {
  console.error(`error: ${lock} is missing: \`npm ci\` installs only from a lock file`);
  process.exit(1);
}
const installedTime = mtime(installed);
if (installedTime !== undefined && installedTime >= lockTime) process.exit(0);

console.error(
  installedTime === undefined
    ? 'web/node_modules is missing: npm ci'
    : 'web/package-lock.json is newer than web/node_modules: npm ci',
);
const npm = process.env.NPM || 'npm';
const run = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: web, stdio: 'inherit' });
if (run.error !== undefined) {
  console.error(`error: cannot run \`${npm} ci\`: ${run.error.message}`);
  process.exit(1);
}
process.exit(run.status ?? 1);
