// The Chromium the browser tests drive (playwright-core's `executablePath`).
//
// Looked for, in order:
//   1. $BOUNDARY_CHROMIUM, when set: it must be an executable file, or this fails;
//   2. `chromium`, `chromium-browser`, `google-chrome` on the PATH.
//
// `node scripts/browser.mjs` prints the path, or one line naming what to run and exits 1.
// `node scripts/browser.mjs --install` installs Debian's `chromium` with apt-get first when none is
// found and this runs as root; otherwise it fails with the same one line. Playwright's own browser
// download (`npx playwright install`) is never used.
//
// Tests import `findChromium()` and the launch flags from here (scripts/browser.d.mts types them).
import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ENV_VAR = 'BOUNDARY_CHROMIUM';
export const NAMES = ['chromium', 'chromium-browser', 'google-chrome'];

/** Flags that work for headless Chromium in a container (with a fresh user-data dir). */
export const LAUNCH_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Why no Chromium was found, as one line that names the command to run. */
export class NoChromium extends Error {
  name = 'NoChromium';
}

function isExecutableFile(path) {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first of `names` that is an executable file in a directory of `pathVar`. */
function onPath(names, pathVar) {
  for (const name of names) {
    for (const dir of (pathVar ?? '').split(delimiter)) {
      if (dir === '') continue;
      const candidate = join(dir, name);
      if (isExecutableFile(candidate)) return candidate;
    }
  }
  return undefined;
}

/**
 * The Chromium to drive: `$BOUNDARY_CHROMIUM`, else the first of NAMES on the PATH.
 * Throws `NoChromium` (one line) when $BOUNDARY_CHROMIUM names no executable, or nothing is found.
 */
export function findChromium(env = process.env) {
  const named = env[ENV_VAR];
  if (named !== undefined && named !== '') {
    if (isExecutableFile(named)) return named;
    throw new NoChromium(`${ENV_VAR}=${named} is not an executable file: point it at a Chromium, or unset it`);
  }
  const found = onPath(NAMES, env.PATH);
  if (found !== undefined) return found;
  throw new NoChromium(
    `no Chromium found (${ENV_VAR} unset; none of ${NAMES.join(', ')} on the PATH): ` +
      `run \`${isRoot() ? '' : 'sudo '}apt-get install -y chromium\` or set ${ENV_VAR}=/path/to/chromium`,
  );
}

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Installs Debian's chromium package; apt-get's errors go to stderr, its progress nowhere. */
function aptInstall() {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', 'chromium'],
  ]) {
    console.error(`$ apt-get ${args.join(' ')}`);
    const run = spawnSync('apt-get', args, { env, stdio: ['ignore', 'ignore', process.stderr] });
    if (run.error !== undefined || run.status !== 0) {
      const why = run.error?.message ?? `exit code ${run.status ?? run.signal}`;
      throw new NoChromium(`\`apt-get ${args.join(' ')}\` failed (${why}): install a Chromium and set ${ENV_VAR}`);
    }
  }
}

function main(argv) {
  const install = argv.includes('--install');
  const unknown = argv.filter((a) => a !== '--install');
  if (unknown.length > 0) {
    console.error(`usage: node scripts/browser.mjs [--install] (unknown: ${unknown.join(' ')})`);
    return 2;
  }
  try {
    try {
      console.log(findChromium());
      return 0;
    } catch (e) {
      // Install only when nothing was named: a wrong $BOUNDARY_CHROMIUM is the user's to fix.
      const named = process.env[ENV_VAR] !== undefined && process.env[ENV_VAR] !== '';
      if (!(e instanceof NoChromium) || !install || named || !isRoot() || onPath(['apt-get'], process.env.PATH) === undefined) {
        throw e;
      }
    }
    console.error('No Chromium found: installing Debian\'s chromium package');
    aptInstall();
    console.log(findChromium());
    return 0;
  } catch (e) {
    if (!(e instanceof NoChromium)) throw e;
    console.error(`error: ${e.message}`);
    return 1;
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = main(process.argv.slice(2));
}
