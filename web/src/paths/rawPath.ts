/** Loaded with a dynamic `import()`: the hand-written ptr/len glue gets its own chunk. */

import coreUrl from '../../wasm/transformer.core.wasm?url';
import { RawGuest } from '../raw/guest';
import { fetchModule } from '../wasm';

/** The URL of this chunk: the TypeScript ptr/len module. */
export const glueUrl = import.meta.url;
/** The hand-written core module, the bytes `guest/raw` builds. */
export const wasmUrls = [coreUrl];

export async function load(): Promise<RawGuest> {
  return RawGuest.instantiate(await fetchModule(coreUrl));
}
