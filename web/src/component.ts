/** The component path: jco's bindings over the same component the Rust host embeds. */

import { instantiate, type Root } from './generated/component';

export type { Root as ComponentGuest, SomeDataStruct } from './generated/component';

/**
 * Instantiates the transpiled component. `getCoreModule` compiles the core module jco split out
 * of it (`component.core.wasm`); how the bytes are found is the caller's business (fetch in the
 * browser, the file system in Node). The component imports one interface for its record type
 * only: there is nothing to provide for it.
 */
export async function instantiateComponent(
  getCoreModule: (path: string) => Promise<WebAssembly.Module>,
): Promise<Root> {
  return instantiate(getCoreModule, { 'boundary:kernel/types@0.1.0': {} });
}
