/**
 * Runs one `transform` call of a hostile guest in a worker thread, for `hostile.test.ts`: a guest
 * that never returns blocks the thread it runs on, and only a worker can be stopped from outside
 * (`worker.terminate()`), as a page would run guests in a Web Worker to be able to stop them.
 *
 * `workerData` is `{ kind: 'raw', wasm }` (core module bytes, through the TypeScript ptr/len
 * driver) or `{ kind: 'jco', dir }` (a directory jco transpiled a component into). The worker
 * posts `{ state: 'calling' }` just before the call, then `returned` or `threw` if it ends.
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';

import { RawGuest } from '../src/raw/guest';
import { example } from './golden';

export type WorkerInput = { kind: 'raw'; wasm: Uint8Array } | { kind: 'jco'; dir: string };
export type WorkerMessage =
  | { state: 'calling' }
  | { state: 'returned'; value: unknown }
  | { state: 'threw'; name: string; code: string | undefined; message: string };

const input = workerData as WorkerInput;
const post = (message: WorkerMessage) => parentPort?.postMessage(message);

let transform: (input: typeof example) => unknown;
if (input.kind === 'raw') {
  const guest = await RawGuest.instantiate(await WebAssembly.compile(new Uint8Array(input.wasm)));
  transform = (x) => guest.transform(x);
} else {
  const { dir } = input;
  const bindings = (await import(pathToFileURL(join(dir, 'component.js')).href)) as {
    instantiate: (
      getCoreModule: (path: string) => Promise<WebAssembly.Module>,
      imports: object,
    ) => Promise<{ transform: (input: typeof example) => unknown }>;
  };
  const root = await bindings.instantiate(
    async (path) => WebAssembly.compile(await readFile(join(dir, path))),
    { 'boundary:kernel/types@0.1.0': {} },
  );
  transform = (x) => root.transform(x);
}

post({ state: 'calling' });
try {
  post({ state: 'returned', value: transform(example) });
} catch (e) {
  const error = e instanceof Error ? e : new Error(String(e));
  const code = (error as { code?: unknown }).code;
  post({
    state: 'threw',
    name: error.constructor.name,
    code: typeof code === 'string' ? code : undefined,
    message: error.message,
  });
}
