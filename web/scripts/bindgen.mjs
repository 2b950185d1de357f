// `npm run bindgen`: the wasm-bindgen peer (guest/bindgen) built for the browser, into
// src/generated-bindgen/ (gitignored, like jco's src/generated/).
//
//   1. wasm-bindgen-cli must be exactly the version of the `wasm-bindgen` crate in Cargo.lock (the
//      CLI refuses a module built by any other). `$WASM_BINDGEN` names the binary (default
//      `wasm-bindgen` on the PATH). When none is found it is installed with
//      `cargo install wasm-bindgen-cli --version =X --locked`, and, if that fails, once more
//      without `--locked`: 0.2.130's own lock file pins webpki-roots 1.0.11, which the registry no
//      longer serves, so `--locked` cannot resolve it (the CLI's version is still exactly X). A
//      different version already installed is one line naming the command that replaces it.
//   2. `cargo build -p boundary-guest-bindgen --target wasm32-unknown-unknown --profile guest
//      --target-dir target/guests` (the guests' own target dir and profile).
//   3. `wasm-bindgen --target web --omit-default-module-path`: an ES module whose `initSync` takes a
//      compiled module, so the app fetches the wasm itself (a hashed asset, checked for `\0asm`).
//
// `node scripts/bindgen.mjs --install` only does step 1 (the justfile's `setup-bindgen`).
// `$CARGO` names the cargo to run (default `cargo`).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = join(web, '..');
const outDir = join(web, 'src', 'generated-bindgen');
const PACKAGE = 'boundary-guest-bindgen';
const NAME = 'bindgen';
const cargo = process.env.CARGO || 'cargo';

function fail(message) {
  console.error(`error: ${message}`);
  process.exit(1);
}

/** The version of `wasm-bindgen` that Cargo.lock resolved. */
function lockedVersion() {
  const lock = join(root, 'Cargo.lock');
  let text;
  try {
    text = readFileSync(lock, 'utf8');
  } catch (e) {
    fail(`cannot read ${lock}: ${e.message}`);
  }
  const match = /\[\[package\]\]\nname = "wasm-bindgen"\nversion = "([^"]+)"/.exec(text);
  if (match === null) fail(`Cargo.lock has no wasm-bindgen package: is guest/bindgen a workspace member?`);
  return match[1];
}

/** `wasm-bindgen --version`'s version, or undefined when the binary cannot be run. */
function installedVersion(bin) {
  const run = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  if (run.error !== undefined || run.status !== 0) return undefined;
  return /wasm-bindgen (\S+)/.exec(run.stdout)?.[1] ?? 'an unknown version';
}

/** Runs a command in the repository root; returns its failure as one line, or undefined. */
function tryRun(command, args, what) {
  const shown = `${command} ${args.join(' ')}`;
  console.error(`$ ${shown}`);
  const child = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (child.error !== undefined) return `cannot run \`${command}\` (${what}): ${child.error.message}`;
  if (child.status !== 0) return `\`${shown}\` failed (${what}), exit ${child.status ?? child.signal}`;
  return undefined;
}

function run(command, args, what) {
  const failed = tryRun(command, args, what);
  if (failed !== undefined) fail(failed);
}

/** The wasm-bindgen to run, installed first when missing. */
function ensureCli() {
  const want = lockedVersion();
  const named = process.env.WASM_BINDGEN;
  const bin = named || 'wasm-bindgen';
  const install = `${cargo} install wasm-bindgen-cli --version =${want}`;
  let have = installedVersion(bin);
  if (have === undefined) {
    if (named) fail(`WASM_BINDGEN=${named} cannot be run: point it at wasm-bindgen ${want}, or unset it`);
    console.error(`wasm-bindgen is missing: installing wasm-bindgen-cli ${want} (several minutes, once)`);
    const args = ['install', 'wasm-bindgen-cli', '--version', `=${want}`];
    const locked = tryRun(cargo, [...args, '--locked'], 'installing wasm-bindgen-cli');
    if (locked !== undefined) {
      console.error(`${locked}; retrying without --locked (its lock file names a crate the registry lacks)`);
      run(cargo, args, 'installing wasm-bindgen-cli');
    }
    have = installedVersion(bin);
    if (have === undefined) fail(`\`${install}\` succeeded but \`${bin}\` is still not on the PATH (~/.cargo/bin?)`);
  }
  if (have !== want) {
    fail(
      `${bin} is wasm-bindgen ${have} but Cargo.lock has wasm-bindgen ${want}: ` +
        `run \`${install} --force\`, or set WASM_BINDGEN to a wasm-bindgen ${want}`,
    );
  }
  return bin;
}

const bin = ensureCli();
if (process.argv.includes('--install')) process.exit(0);

run(
  cargo,
  ['build', '-p', PACKAGE, '--target', 'wasm32-unknown-unknown', '--profile', 'guest', '--target-dir', 'target/guests'],
  'building the wasm-bindgen guest',
);
const wasm = join(root, 'target', 'guests', 'wasm32-unknown-unknown', 'guest', `${PACKAGE.replaceAll('-', '_')}.wasm`);
if (!existsSync(wasm)) fail(`cargo built no ${relative(root, wasm)}`);

await rm(outDir, { recursive: true, force: true });
await mkdir(outDir, { recursive: true });
run(
  bin,
  [wasm, '--out-dir', outDir, '--out-name', NAME, '--target', 'web', '--omit-default-module-path'],
  'generating the JS bindings',
);
for (const file of (await readdir(outDir)).sort()) {
  console.log(`wrote web/${relative(web, join(outDir, file))} (${statSync(join(outDir, file)).size} bytes)`);
}
for (const file of [`${NAME}.js`, `${NAME}_bg.wasm`]) {
  if (!existsSync(join(outDir, file))) fail(`wasm-bindgen wrote no src/generated-bindgen/${file}`);
}
