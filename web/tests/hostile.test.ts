/**
 * The hostile guests of `host/artifacts/fixtures/*.wat`, run through the browser's two paths in Node:
 * the hand-written TypeScript ptr/len driver (`src/raw/guest.ts`) for the `raw_*` core modules,
 * and jco's transpiled bindings for the `component_*` components. Each test asserts what a user
 * of the page would see (the error's class, code and the gist of its message), so the README's
 * failure table for "browser, jco" and "browser, raw (TypeScript)" is measured, not guessed.
 *
 * The `.wat` files are assembled here with wasm-tools' `parse` (shipped in jco-transpile), from the
 * same sources `host/build.rs` assembles for the Rust tests.
 *
 * Node runs V8 as Chrome does, but without a page: where a result depends on V8's limits (stack
 * depth, 4 GiB of memory, the time growing it takes) it is what Node 20's V8 does.
 *
 * A guest that never returns would hang the test, so those run in a worker thread
 * (`hostile-worker.ts`) that is terminated after a deadline. The memory bomb grows memory a page
 * at a time to V8's 4 GiB, which takes minutes (every grow past ~64 MiB costs a full GC), and
 * `worker.terminate()` does not stop it sooner: by default a copy capped at 16 MiB shows how it
 * ends, and `HOSTILE_SLOW=1` runs the real one, in process and in a worker.
 */

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { after, before, describe, test } from 'node:test';

import { transpileBytes } from '@bytecodealliance/jco-transpile';
import { parse } from '@bytecodealliance/jco-transpile/wasm-tools';

import { instantiateComponent, type SomeDataStruct } from '../src/component';
import { AbiError, GuestError, RawGuest } from '../src/raw/guest';
import { example, namedRecord } from './golden';
import type { WorkerInput, WorkerMessage } from './hostile-worker';

const web = new URL('../', import.meta.url);
const fixturesDir = new URL('../host/artifacts/fixtures/', web);
const realCore = new URL('wasm/transformer.core.wasm', web);
const realBindings = new URL('src/generated/component.js', web);
const slow = process.env['HOSTILE_SLOW'] === '1';

const transformed: SomeDataStruct = namedRecord('the seed example, transformed');

before(() => {
  const missing = [
    [fixturesDir, 'the hostile fixtures (host/artifacts/fixtures/*.wat)'],
    [realCore, 'the real core guest: run `boundary inspect --write-guests web/wasm` (or `just web`)'],
    [realBindings, 'the real component\'s bindings: run `npm --prefix web run transpile`'],
  ].filter(([url]) => !existsSync(url as URL));
  if (missing.length > 0) {
    throw new Error(
      `hostile.test.ts needs:\n${missing.map(([url, what]) => `  ${fileURLToPath(url as URL)}: ${what as string}`).join('\n')}`,
    );
  }
});

/** The text of `host/artifacts/fixtures/<stem>.wat`. */
async function fixtureText(stem: string): Promise<string> {
  const url = new URL(`${stem}.wat`, fixturesDir);
  if (!existsSync(url)) throw new Error(`fixture ${fileURLToPath(url)} not found`);
  return readFile(url, 'utf8');
}

async function assemble(wat: string): Promise<Uint8Array> {
  return new Uint8Array(await parse(wat));
}

/** Replaces `from` in `text`, failing if it is not there: a fixture changed under the test. */
function edit(text: string, from: string | RegExp, to: string): string {
  const out = text.replace(from, to);
  assert.notEqual(out, text, `the fixture no longer contains ${String(from)}`);
  return out;
}

/** The same fixture with its memory capped at `pages` pages of 64 KiB. */
function capMemory(wat: string, pages: number): string {
  return edit(wat, '(memory (export "memory") 1)', `(memory (export "memory") 1 ${pages})`);
}

// ---------------------------------------------------------------------------------------------
// Workers, for guests that do not return.

interface WorkerOutcome {
  /** Every message the worker posted, in order. */
  messages: WorkerMessage[];
  /** True when the deadline passed after `calling` and the worker had to be terminated. */
  terminated: boolean;
  elapsedMs: number;
  /** How long `worker.terminate()` took to resolve, once called. */
  terminateMs: number;
}

/**
 * Runs one `transform` call in a worker; once the worker says it is calling, waits `deadlineMs`
 * for the call to end, then terminates it.
 */
async function runInWorker(input: WorkerInput, deadlineMs: number): Promise<WorkerOutcome> {
  // The worker is TypeScript: register tsx in it first (in Node 20 `--import tsx` in a worker's
  // execArgv does not reach the worker's entry module).
  const entry = new URL('./hostile-worker.ts', import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
    .then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`;
  const worker = new Worker(bootstrap, { eval: true, workerData: input });
  const messages: WorkerMessage[] = [];
  const started = Date.now();
  return new Promise<WorkerOutcome>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let terminating = 0;
    const finish = (terminated: boolean) => {
      clearTimeout(timer);
      const now = Date.now();
      resolve({ messages, terminated, elapsedMs: now - started, terminateMs: now - terminating });
    };
    worker.on('message', (m: WorkerMessage) => {
      messages.push(m);
      if (m.state === 'calling') {
        timer = setTimeout(() => {
          terminating = Date.now();
          void worker.terminate().then(() => finish(true), reject);
        }, deadlineMs);
      } else {
        clearTimeout(timer);
        terminating = Date.now();
        void worker.terminate().then(() => finish(false), reject);
      }
    });
    worker.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    worker.on('exit', (code) => {
      // After finish() this is a no-op: the promise is settled.
      if (terminating === 0) reject(new Error(`the worker exited (code ${code}) on its own`));
    });
  });
}

function assertHung(outcome: WorkerOutcome, deadlineMs: number) {
  assert.deepEqual(
    outcome.messages,
    [{ state: 'calling' }],
    'the call never ended: the worker had to be terminated',
  );
  assert.equal(outcome.terminated, true);
  assert.ok(outcome.elapsedMs >= deadlineMs);
}

// ---------------------------------------------------------------------------------------------
// The raw path: the TypeScript ptr/len driver.

/** What a `raw_*` fixture produces: the error `transform` throws. */
type RawExpectation =
  | { abi: AbiError['code']; message: RegExp }
  | { guest: 'decode' | 'trailing-bytes' | 'encode'; message: RegExp }
  | { instantiate: AbiError['code']; message: RegExp }
  | { hangs: true };

const rawCases: Record<string, RawExpectation> = {
  raw_iloop: { hangs: true },
  // V8's own stack limit: a RangeError inside the guest, which the driver reports as a trap.
  raw_recursion: { abi: 'trap', message: /^the guest trapped: Maximum call stack size exceeded$/ },
  // The memory bomb has its own tests below.
  raw_memory_bomb: { hangs: true },
  raw_unreachable: { abi: 'trap', message: /^the guest trapped: unreachable$/ },
  raw_result_oob: {
    abi: 'out-of-bounds',
    message: /the result region at 0xfffc with length 8, outside its 65536-byte memory/,
  },
  raw_len_max: { abi: 'output-too-large', message: /the output is 4294967295 bytes, over the 33554432-byte limit/ },
  raw_wrapping: {
    abi: 'out-of-bounds',
    message: /the output at 0xfffffff0 with length 32, outside its 65536-byte memory/,
  },
  raw_misaligned: { abi: 'misaligned', message: /the result region at 0x202 is not aligned to 4/ },
  raw_garbage_output: { abi: 'decode', message: /does not decode: a Result tag other than 0 \(Ok\) or 1 \(Err\)/ },
  raw_huge_prefix: { abi: 'decode', message: /does not decode: a string of 4294967295 bytes with only 0 left/ },
  raw_guest_error: { guest: 'decode', message: /^the guest could not decode its input: nope$/ },
  raw_malloc_zero: { abi: 'alloc-failed', message: /could not allocate 19 bytes/ },
  raw_malloc_oob: {
    abi: 'out-of-bounds',
    message: /the input buffer at 0xffff0000 with length 19, outside its 65536-byte memory/,
  },
  raw_missing_exports: { instantiate: 'missing-export', message: /does not export the function `ns_malloc`/ },
  // JavaScript would call `ns_malloc(size, align)` with `align` silently dropped; the driver checks
  // each export's parameter count at instantiation instead.
  raw_wrong_signature: { instantiate: 'wrong-signature', message: /`ns_malloc` takes 1 parameters, expected 2/ },
};

function isAbi(code: AbiError['code'], message: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof AbiError, `expected an AbiError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    return true;
  };
}

async function rawGuest(wasm: Uint8Array): Promise<RawGuest> {
  return RawGuest.instantiate(await WebAssembly.compile(new Uint8Array(wasm)));
}

async function realRawGuestWorks() {
  const fresh = await RawGuest.instantiate(await WebAssembly.compile(await readFile(realCore)));
  assert.deepEqual(fresh.transform(example), transformed, 'a fresh instance of the real guest works');
}

/** The driver's instance memory, which it keeps private. */
function memoryOf(guest: RawGuest): WebAssembly.Memory {
  return (guest as unknown as { exports: { memory: WebAssembly.Memory } }).exports.memory;
}

describe('browser, raw (TypeScript): hostile core modules', () => {
  test('every raw_*.wat fixture has a case here', async () => {
    const stems = (await readdir(fixturesDir)).filter((f) => /^raw_.*\.wat$/.test(f)).map((f) => f.slice(0, -4));
    assert.deepEqual(stems.sort(), Object.keys(rawCases).sort());
  });

  for (const [stem, want] of Object.entries(rawCases)) {
    if ('hangs' in want) continue;
    test(stem, async () => {
      const wasm = await assemble(await fixtureText(stem));
      if ('instantiate' in want) {
        await assert.rejects(rawGuest(wasm), isAbi(want.instantiate, want.message));
      } else if ('guest' in want) {
        const guest = await rawGuest(wasm);
        for (let i = 0; i < 2; i++) {
          // The contract's own error channel: the instance is not poisoned, the same error comes back.
          assert.throws(
            () => guest.transform(example),
            (e: unknown) => {
              assert.ok(e instanceof GuestError, `expected a GuestError, got ${String(e)}`);
              assert.equal(e.error.kind, want.guest);
              assert.match(e.message, want.message);
              return true;
            },
          );
        }
      } else {
        const guest = await rawGuest(wasm);
        assert.throws(() => guest.transform(example), isAbi(want.abi, want.message));
        // A guest that broke the ABI or trapped is not called again.
        assert.throws(() => guest.transform(example), isAbi('poisoned', /an earlier call trapped/));
      }
      await realRawGuestWorks();
    });
  }

  test('raw_iloop: the call never returns; only terminating its worker stops it', async () => {
    const deadlineMs = 500;
    const outcome = await runInWorker({ kind: 'raw', wasm: await assemble(await fixtureText('raw_iloop')) }, deadlineMs);
    assertHung(outcome, deadlineMs);
    await realRawGuestWorks();
  });

  test(
    'raw_memory_bomb, in full, in a worker: terminate() does not stop it before it traps (HOSTILE_SLOW=1; minutes)',
    { skip: !slow && 'set HOSTILE_SLOW=1 to run it', timeout: 15 * 60_000 },
    async (t) => {
      const wasm = await assemble(await fixtureText('raw_memory_bomb'));
      const outcome = await runInWorker({ kind: 'raw', wasm }, 2000);
      t.diagnostic(`terminate() took ${outcome.terminateMs} ms; the worker posted ${JSON.stringify(outcome.messages)}`);
      // Measured on Node 20: terminate() resolved only once memory reached 4 GiB (minutes later).
      assert.ok(outcome.terminateMs > 10_000, `terminate() took ${outcome.terminateMs} ms`);
      await realRawGuestWorks();
    },
  );

  test('raw_memory_bomb capped at 16 MiB: grows to the cap, then traps', async () => {
    const guest = await rawGuest(await assemble(capMemory(await fixtureText('raw_memory_bomb'), 256)));
    assert.throws(() => guest.transform(example), isAbi('trap', /^the guest trapped: unreachable$/));
    assert.equal(memoryOf(guest).buffer.byteLength, 256 * 65536, 'memory stays at its cap until the instance is dropped');
    assert.throws(() => guest.transform(example), isAbi('poisoned', /an earlier call trapped/));
    await realRawGuestWorks();
  });

  test(
    'raw_memory_bomb, in full: grows to 4 GiB, then traps (HOSTILE_SLOW=1; minutes)',
    { skip: !slow && 'set HOSTILE_SLOW=1 to run it', timeout: 15 * 60_000 },
    async () => {
      const guest = await rawGuest(await assemble(await fixtureText('raw_memory_bomb')));
      assert.throws(() => guest.transform(example), isAbi('trap', /^the guest trapped: unreachable$/));
      assert.equal(memoryOf(guest).buffer.byteLength, 2 ** 32);
      await realRawGuestWorks();
    },
  );
});

// ---------------------------------------------------------------------------------------------
// The jco path: each component transpiled at test time, as scripts/transpile.mjs does.

const tempDirs: string[] = [];
after(async () => {
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** Transpiles a component into a fresh temporary directory; returns the directory. */
async function transpileInto(component: Uint8Array): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wasm-boundary-hostile-'));
  tempDirs.push(dir);
  const { files } = await transpileBytes(component, {
    name: 'component',
    instantiation: 'async',
    nodejsCompat: false,
    wasiShim: false,
    outDir: dir,
  });
  for (const [path, bytes] of Object.entries(files)) {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, bytes);
  }
  // component.js is an ES module; outside web/ nothing says so.
  await writeFile(join(dir, 'package.json'), '{"type": "module"}\n');
  return dir;
}

type Root = Record<string, unknown> & {
  transform: (input: SomeDataStruct) => SomeDataStruct;
  buttonText: (status: unknown) => string;
};

/** Imports and instantiates bindings transpiled into `dir`. */
async function instantiateIn(dir: string): Promise<Root> {
  const bindings = (await import(pathToFileURL(join(dir, 'component.js')).href)) as {
    instantiate: (getCoreModule: (path: string) => Promise<WebAssembly.Module>, imports: object) => Promise<Root>;
  };
  return bindings.instantiate(async (path) => WebAssembly.compile(await readFile(join(dir, path))), {
    'boundary:kernel/types@0.1.0': {},
  });
}

/**
 * The fixtures export their record type at the top level (`(export "some-data-struct" (type
 * ...))`), which wasmtime accepts but jco 0.15 refuses to transpile. To see what jco's bindings do
 * with each guest's behaviour, this variant imports the type from `boundary:kernel/types@0.1.0`
 * instead, as the real guest (built by wit-bindgen from wit/world.wit) does; the core module and
 * the lifted functions are unchanged.
 */
function importRecordType(wat: string): string {
  return edit(
    wat,
    /\(type \$record (\(record [^\n]*\))\)\n\s*\(export \$rec "some-data-struct" \(type \$record\)\)/,
    '(import "boundary:kernel/types@0.1.0" (instance $types (type $r $1) (export "some-data-struct" (type (eq $r)))))\n' +
      '  (alias export $types "some-data-struct" (type $rec))',
  );
}

async function transpileFixture(stem: string, adapt: (wat: string) => string = importRecordType): Promise<string> {
  return transpileInto(await assemble(adapt(await fixtureText(stem))));
}

/** The generated bindings of the real component (src/generated), freshly instantiated. */
async function realComponentWorks() {
  const root = await instantiateComponent(async (path) =>
    WebAssembly.compile(await readFile(new URL(`src/generated/${path}`, web))),
  );
  assert.deepEqual(root.transform(example), transformed, 'a fresh instance of the real component works');
}

function isError(name: string, message: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof Error, `expected an Error, got ${String(e)}`);
    assert.equal(e.constructor.name, name, e.message);
    assert.match(e.message, message);
    return true;
  };
}

const componentStems = [
  'component_huge_list',
  'component_iloop',
  'component_memory_bomb',
  'component_other_world',
  'component_unreachable',
  'component_wrong_signature',
];

describe('browser, jco: hostile components', () => {
  test('every component_*.wat fixture has a case here', async () => {
    const stems = (await readdir(fixturesDir)).filter((f) => /^component_.*\.wat$/.test(f)).map((f) => f.slice(0, -4));
    assert.deepEqual(stems.sort(), componentStems);
  });

  describe('as written, the fixtures that export their record type do not transpile', () => {
    for (const stem of componentStems.filter((s) => s !== 'component_other_world')) {
      test(stem, async () => {
        await assert.rejects(
          transpileFixture(stem, (wat) => wat),
          isError('ComponentError', /component export `some-data-struct` was not a function or instance/),
        );
      });
    }
  });

  test('component_unreachable: RuntimeError, then the instance refuses every call', async () => {
    const root = await instantiateIn(await transpileFixture('component_unreachable'));
    // jco rewrites V8's "unreachable" into wasmtime's wording.
    assert.throws(
      () => root.transform(example),
      isError('RuntimeError', /^wasm trap: wasm `unreachable` instruction executed$/),
    );
    assert.throws(() => root.transform(example), isError('RuntimeError', /cannot enter component instance/));
    assert.throws(() => root.buttonText('DONE'), isError('RuntimeError', /cannot enter component instance/));
    await realComponentWorks();
  });

  test('component_huge_list: the lift throws a RangeError, and the instance stays usable', async () => {
    const root = await instantiateIn(await transpileFixture('component_huge_list'));
    // 2^28 - 1 names of 8 bytes each: jco builds a typed array over them before any bounds check.
    for (let i = 0; i < 2; i++) {
      assert.throws(() => root.transform(example), isError('RangeError', /Invalid typed array length: 268435455/));
    }
    // Not a trap, so jco does not poison the instance: button-text (a zeroed string) still answers.
    assert.equal(root.buttonText('DONE'), '');
    await realComponentWorks();
  });

  test('component_wrong_signature: nothing checks the world; calls succeed with wrong results', async () => {
    const root = await instantiateIn(await transpileFixture('component_wrong_signature'));
    // transform returns a record read from zeroed memory.
    assert.deepEqual(root.transform(example), { name: '', names: [] });
    // button-text takes a u32: jco coerces the string ('DONE' >>> 0 is 0) and the guest returns ''.
    assert.equal(root.buttonText('DONE'), '');
  });

  test('component_other_world: transpiles; `transform` is missing, a TypeError at the call', async () => {
    const root = await instantiateIn(await transpileFixture('component_other_world', (wat) => wat));
    assert.deepEqual(Object.keys(root), ['answer']);
    assert.equal(root.transform, undefined);
    assert.throws(() => root.transform(example), isError('TypeError', /transform is not a function/));
  });

  test('component_iloop: the call never returns; only terminating its worker stops it', async () => {
    const deadlineMs = 500;
    const outcome = await runInWorker({ kind: 'jco', dir: await transpileFixture('component_iloop') }, deadlineMs);
    assertHung(outcome, deadlineMs);
    await realComponentWorks();
  });

  test(
    'component_memory_bomb, in full, in a worker: terminate() does not stop it before it traps (HOSTILE_SLOW=1; minutes)',
    { skip: !slow && 'set HOSTILE_SLOW=1 to run it', timeout: 15 * 60_000 },
    async (t) => {
      const outcome = await runInWorker({ kind: 'jco', dir: await transpileFixture('component_memory_bomb') }, 2000);
      t.diagnostic(`terminate() took ${outcome.terminateMs} ms; the worker posted ${JSON.stringify(outcome.messages)}`);
      assert.ok(outcome.terminateMs > 10_000, `terminate() took ${outcome.terminateMs} ms`);
      await realComponentWorks();
    },
  );

  test('component_memory_bomb capped at 16 MiB: grows to the cap, then RuntimeError', async () => {
    const root = await instantiateIn(
      await transpileFixture('component_memory_bomb', (wat) => importRecordType(capMemory(wat, 256))),
    );
    assert.throws(
      () => root.transform(example),
      isError('RuntimeError', /^wasm trap: wasm `unreachable` instruction executed$/),
    );
    assert.throws(() => root.transform(example), isError('RuntimeError', /cannot enter component instance/));
    await realComponentWorks();
  });

  test(
    'component_memory_bomb, in full: grows to 4 GiB, then RuntimeError (HOSTILE_SLOW=1; minutes)',
    { skip: !slow && 'set HOSTILE_SLOW=1 to run it', timeout: 15 * 60_000 },
    async () => {
      const root = await instantiateIn(await transpileFixture('component_memory_bomb'));
      assert.throws(
        () => root.transform(example),
        isError('RuntimeError', /^wasm trap: wasm `unreachable` instruction executed$/),
      );
      await realComponentWorks();
    },
  );
});
