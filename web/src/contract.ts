/**
 * The contract's constants, read from `kernel/golden/contract.json` rather than restated:
 * `kernel/tests/golden.rs` checks that file against the Rust kernel, so these are the kernel's.
 * Vite bundles the JSON into the page; tsx imports it in the Node tests.
 */

import contract from '../../kernel/golden/contract.json' with { type: 'json' };

/** The name `transform` appends (`boundary_kernel::NEW_NAME`). */
export const NEW_NAME: string = contract.new_name;

/** `button-text`'s labels (`boundary_kernel::LABEL_*`). */
export const LABELS: { readonly pending: string; readonly done: string; readonly unknown: string } = contract.labels;

/** Size in bytes of the `{ptr, len}` result region (`wire::RESULT_SIZE`). */
export const RESULT_SIZE: number = contract.result_size;
/** Its alignment in bytes (`wire::RESULT_ALIGN`). */
export const RESULT_ALIGN: number = contract.result_align;

/** One export of the ptr/len ABI (`wire::EXPORTS`). */
export type Export =
  | { name: string; kind: 'memory'; need: Need }
  | { name: string; kind: 'func'; params: number; results: number; need: Need };
/** Every module must have a `required` export; `optional` ones may be missing; `tuned` ones are the tuned path's. */
export type Need = 'required' | 'optional' | 'tuned';

/** `memory`, or `func(i32, i32) -> i32` as `wire::ExportType`'s Display prints it. */
function parseType(name: string, type: string, need: Need): Export {
  if (type === 'memory') return { name, kind: 'memory', need };
  const match = /^func\(((?:i32(?:, i32)*)?)\)(?: -> (i32|\((?:i32(?:, i32)*)\)))?$/.exec(type);
  if (match === null) throw new Error(`contract.json: export \`${name}\` has a type this page cannot read: ${type}`);
  const count = (list: string | undefined) => (list === undefined || list === '' ? 0 : list.split(',').length);
  return { name, kind: 'func', params: count(match[1]), results: count(match[2]), need };
}

function parseNeed(name: string, need: string): Need {
  if (need === 'required' || need === 'optional' || need === 'tuned') return need;
  throw new Error(`contract.json: export \`${name}\` has an unknown need ${need}`);
}

/** The ABI's exports, in the kernel's order. */
export const EXPORTS: readonly Export[] = contract.exports.map((e) => parseType(e.name, e.type, parseNeed(e.name, e.need)));
