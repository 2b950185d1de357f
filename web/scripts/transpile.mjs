// `npm run transpile`: the component `boundary inspect --write-guests wasm` wrote, through jco
// (@bytecodealliance/jco-transpile, pinned in package.json), into src/generated/.
//
// Browser settings: async instantiation (the app passes `getCoreModule`, so the core wasm is a
// hashed asset the bundler ships), no Node.js compatibility code, and no WASI shim (the component
// imports nothing but a type-only interface).
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

import { transpile } from '@bytecodealliance/jco-transpile';

const input = 'wasm/transformer.component.wasm';
const outDir = 'src/generated';

for (const file of [input, 'wasm/transformer.core.wasm']) {
  if (!existsSync(file)) {
    console.error(`web/${file} is missing: run \`boundary inspect --write-guests web/wasm\` (or \`just web\`) first`);
    process.exit(1);
  }
}

const { files } = await transpile(input, {
  name: 'component',
  instantiation: 'async',
  nodejsCompat: false,
  wasiShim: false,
  outDir,
});
await rm(outDir, { recursive: true, force: true });
for (const [path, bytes] of Object.entries(files)) {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, bytes);
  console.log(`wrote web/${path} (${bytes.length} bytes)`);
}
if (!existsSync(join(outDir, 'component.js'))) {
  console.error(`jco wrote no ${outDir}/component.js`);
  process.exit(1);
}
