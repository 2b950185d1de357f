/** Loaded with a dynamic `import()`: wasm-bindgen's glue gets a chunk of its own. */

import wasmUrl from '../generated-bindgen/bindgen_bg.wasm?url';
import { type BindgenGuest, instantiateBindgen } from '../bindgen';
import { fetchModule } from '../wasm';

/** The URL of this chunk: wasm-bindgen's glue JS. */
export const glueUrl = import.meta.url;
/** The module wasm-bindgen-cli wrote (guest/bindgen, its descriptors stripped). */
export const wasmUrls = [wasmUrl];

export async function load(): Promise<BindgenGuest> {
  return instantiateBindgen(await fetchModule(wasmUrl));
}
