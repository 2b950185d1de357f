/**
 * The wasm-bindgen path: the glue wasm-bindgen-cli generates for guest/bindgen
 * (`npm run bindgen`, into src/generated-bindgen/). The record crosses as a plain object, converted
 * inside the guest by serde-wasm-bindgen; `rust_generate_button_text` is the seed chapter's export.
 */

import { initSync, rust_generate_button_text, transform } from './generated-bindgen/bindgen';
import type { SomeDataStruct } from './component';

/** The same two calls as the other browser paths. */
export interface BindgenGuest {
  transform(input: SomeDataStruct): SomeDataStruct;
  buttonText(status: string): string;
  /** The guest's linear memory (the tests check that calls do not leak). */
  readonly memory: WebAssembly.Memory;
}

/**
 * Instantiates the module once: wasm-bindgen's `--target web` glue holds one instance per page
 * (a second call returns the first instance). Throws what `WebAssembly.Instance` throws when the
 * module is not the one the glue was generated for.
 *
 * The wrappers are typed with jco's `SomeDataStruct` (generated from the WIT) on both sides, so
 * the record type the guest declares and the WIT's must stay assignable to each other, or this
 * file does not type-check.
 */
export function instantiateBindgen(module: WebAssembly.Module): BindgenGuest {
  const exports = initSync({ module });
  return {
    transform: (input: SomeDataStruct): SomeDataStruct => transform(input),
    buttonText: (status: string): string => rust_generate_button_text(status),
    memory: exports.memory,
  };
}
