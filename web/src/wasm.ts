/** Fetching wasm in the browser, with a clear error when what arrives is not wasm. */

/** The wasm could not be fetched or compiled; the message says which file and why. */
export class WasmLoadError extends Error {
  override name = 'WasmLoadError';
}

const MAGIC = [0x00, 0x61, 0x73, 0x6d]; // "\0asm"

/** Fetches and compiles a core module, refusing anything that does not start with `\0asm`. */
export async function fetchModule(url: string): Promise<WebAssembly.Module> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new WasmLoadError(`cannot fetch ${url}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!response.ok) {
    throw new WasmLoadError(`cannot fetch ${url}: HTTP ${response.status} ${response.statusText}`);
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (!MAGIC.every((b, i) => bytes[i] === b)) {
    const type = response.headers.get('content-type') ?? 'no content type';
    const start = new TextDecoder().decode(bytes.subarray(0, 16)).replace(/\s+/g, ' ');
    throw new WasmLoadError(
      `${url} is not WebAssembly: the server sent ${bytes.length} bytes of ${type} starting ` +
        `with ${JSON.stringify(start)} instead of \\0asm (is the file missing from the build?)`,
    );
  }
  try {
    return await WebAssembly.compile(bytes);
  } catch (e) {
    throw new WasmLoadError(`${url} does not compile: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Bytes the browser received for `url` (uncompressed body), from the Resource Timing API. */
export function shippedBytes(url: string): number | undefined {
  const href = new URL(url, document.baseURI).href;
  const entry = performance.getEntriesByName(href, 'resource').at(-1);
  return entry instanceof PerformanceResourceTiming && entry.decodedBodySize > 0
    ? entry.decodedBodySize
    : undefined;
}
