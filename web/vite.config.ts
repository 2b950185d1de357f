import { fileURLToPath } from 'node:url';

import react from '@vitejs/plugin-react';
import { type Plugin, defineConfig, searchForWorkspaceRoot } from 'vite';

/**
 * jco's glue falls back to `new URL(`./${name}`, import.meta.url)` when no `getCoreModule` is
 * given. Vite reads that template as "any file in src/generated/" and ships them all, the .d.ts
 * files included. This app always passes `getCoreModule` (src/paths/componentPath.ts, which imports
 * the core wasm as a hashed asset), so the fallback is replaced by an error before Vite sees it.
 */
function noJcoFetchFallback(): Plugin {
  const fallback = 'new URL(`./${name}`, import.meta.url)';
  return {
    name: 'no-jco-fetch-fallback',
    enforce: 'pre',
    transform(code, id) {
      if (!id.includes('/src/generated/') || !id.endsWith('.js')) return null;
      if (!code.includes(fallback)) {
        this.warn(`${id}: jco's fetch fallback was not found; check the generated glue`);
        return null;
      }
      return code.replace(fallback, '(() => { throw new Error(`no getCoreModule for ${name}`); })()');
    },
  };
}

export default defineConfig({
  plugins: [noJcoFetchFallback(), react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Every wasm file is a hashed file of its own (never inlined as base64), fetched once and
    // cached as immutable by `boundary serve`.
    assetsInlineLimit: 0,
    target: 'es2022',
  },
  server: {
    // `npm run dev` talks to a `boundary serve` on the default address.
    proxy: { '/api': 'http://127.0.0.1:8080' },
    // src/contract.ts imports ../kernel/golden/contract.json, outside web/.
    fs: { allow: [searchForWorkspaceRoot(process.cwd()), fileURLToPath(new URL('../kernel/golden', import.meta.url))] },
  },
});
