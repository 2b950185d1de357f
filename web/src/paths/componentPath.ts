/**
 * Loaded with a dynamic `import()`, so the bundler gives jco's glue (and this file) a chunk of its
 * own whose size the page can report.
 */

import coreUrl from '../generated/component.core.wasm?url';
import { instantiateComponent, type ComponentGuest } from '../component';
import { fetchModule } from '../wasm';

/** The URL of this chunk: jco's glue JS. */
export const glueUrl = import.meta.url;
/** The core wasm jco split out of the component. */
export const wasmUrls = [coreUrl];

export async function load(): Promise<ComponentGuest> {
  return instantiateComponent(async (path) => {
    if (path !== 'component.core.wasm') throw new Error(`jco asked for an unknown module ${path}`);
    return fetchModule(coreUrl);
  });
}
