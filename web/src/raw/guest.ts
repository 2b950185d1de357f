/**
 * The hand-written ptr/len path in the browser: a core module, its memory, and the ABI of
 * `kernel/src/wire.rs`, with the same checks as the Rust host (`host/src/raw.rs`).
 *
 * One call: encode the input, `ns_malloc(len, 1)`, copy it into guest memory, call the export,
 * read the result region `{ptr: u32 LE, len: u32 LE}` (RESULT_SIZE bytes aligned to RESULT_ALIGN,
 * 8 and 4), copy the output out, free input `(ptr, len, 1)`, output `(ptr, len, 1)` and region
 * `(ptr, RESULT_SIZE, RESULT_ALIGN)`, then decode. The sizes and the export table come from
 * `kernel/golden/contract.json` (src/contract.ts).
 * Nothing the guest returns is trusted: every address and length is checked against the size of
 * memory at the moment it is used.
 */

import { EXPORTS, RESULT_ALIGN, RESULT_SIZE } from '../contract';
import type { SomeDataStruct } from '../generated/component';
import {
  type GuestErrorValue,
  type Response,
  PostcardError,
  decodeRecordResponse,
  decodeStringResponse,
  encodeRecord,
  encodeString,
} from './postcard';

export interface Limits {
  /** The largest encoded input copied into the guest. */
  maxInputBytes: number;
  /** The largest output copied out of the guest; checked before anything is copied. */
  maxOutputBytes: number;
}

/** The same defaults as the Rust host's `Limits`. */
export const DEFAULT_LIMITS: Limits = { maxInputBytes: 32 << 20, maxOutputBytes: 32 << 20 };

/** The guest reported an error through the contract (the `Err` of a response). */
export class GuestError extends Error {
  override name = 'GuestError';
  constructor(readonly error: GuestErrorValue) {
    super(
      error.kind === 'trailing-bytes'
        ? `the guest found ${error.count} unexpected bytes after its input`
        : `the guest could not ${error.kind} its ${error.kind === 'decode' ? 'input' : 'output'}: ${error.message}`,
    );
  }
}

/** The guest broke the ABI, or the call could not be made. */
export class AbiError extends Error {
  override name = 'AbiError';
  constructor(
    readonly code:
      | 'missing-export'
      | 'wrong-signature'
      | 'input-too-large'
      | 'alloc-failed'
      | 'out-of-bounds'
      | 'misaligned'
      | 'output-too-large'
      | 'decode'
      | 'trap'
      | 'poisoned',
    message: string,
  ) {
    super(message);
  }
}

interface Exports {
  memory: WebAssembly.Memory;
  ns_malloc: (size: number, align: number) => number;
  ns_free: (ptr: number, size: number, align: number) => void;
  entry_point: (ptr: number, len: number) => number;
  button_text?: (ptr: number, len: number) => number;
}

function exportsOf(instance: WebAssembly.Instance): Exports {
  const e = instance.exports;
  // The ABI's export table (kernel/golden/contract.json, the kernel's `wire::EXPORTS`). The tuned
  // exports are the Rust host's; this module does not use them.
  for (const want of EXPORTS) {
    if (want.need === 'tuned') continue;
    const got = e[want.name];
    if (got === undefined && want.need === 'optional') continue;
    if (want.kind === 'memory') {
      if (!(got instanceof WebAssembly.Memory)) {
        throw new AbiError('missing-export', `the module does not export \`${want.name}\``);
      }
      continue;
    }
    if (typeof got !== 'function') {
      throw new AbiError('missing-export', `the module does not export the function \`${want.name}\``);
    }
    // A JavaScript call drops extra arguments and pads missing ones silently, so check each
    // function's parameter count (an exported wasm function's `length`) before calling it. Result
    // counts are not visible from JavaScript.
    if (got.length !== want.params) {
      throw new AbiError(
        'wrong-signature',
        `the module's \`${want.name}\` takes ${got.length} parameters, expected ${want.params}`,
      );
    }
  }
  return e as unknown as Exports;
}

/** One instance of the core module, for many calls. */
export class RawGuest {
  /** Set when a call trapped: the guest's memory may be in any state, so refuse further calls. */
  private poisoned = false;

  private constructor(
    private readonly exports: Exports,
    private readonly limits: Limits,
  ) {}

  /** Instantiates a compiled core module. It imports nothing. */
  static async instantiate(module: WebAssembly.Module, limits = DEFAULT_LIMITS): Promise<RawGuest> {
    const instance = await WebAssembly.instantiate(module, {});
    return new RawGuest(exportsOf(instance), limits);
  }

  /** `transform` through `entry_point`. Throws `GuestError` or `AbiError`. */
  transform(input: SomeDataStruct): SomeDataStruct {
    return unwrap(this.decode(() => decodeRecordResponse(this.call('entry_point', encodeRecord(input)))));
  }

  /** `button-text` through `button_text`. Throws `GuestError` or `AbiError`. */
  buttonText(status: string): string {
    return unwrap(this.decode(() => decodeStringResponse(this.call('button_text', encodeString(status)))));
  }

  /** Sends `bytes` to `entry_point` as they are, for tests: the guest's decoding, not ours. */
  transformBytes(bytes: Uint8Array): Response<SomeDataStruct> {
    return this.decode(() => decodeRecordResponse(this.call('entry_point', bytes)));
  }

  /** Decodes a response; output that does not decode is the guest's fault, as in `call`. */
  private decode<T>(f: () => Response<T>): Response<T> {
    try {
      return f();
    } catch (e) {
      if (e instanceof PostcardError) {
        this.poisoned = true;
        throw new AbiError('decode', `the guest's output does not decode: ${e.message}`);
      }
      throw e;
    }
  }

  /** One round trip of the ABI; returns a copy of the output bytes. */
  call(name: 'entry_point' | 'button_text', input: Uint8Array): Uint8Array {
    if (this.poisoned) throw new AbiError('poisoned', 'an earlier call trapped; instantiate again');
    const fn = this.exports[name];
    if (fn === undefined) throw new AbiError('missing-export', `the module does not export \`${name}\``);
    if (input.length > this.limits.maxInputBytes) {
      throw new AbiError(
        'input-too-large',
        `the input is ${input.length} bytes, over the ${this.limits.maxInputBytes}-byte limit`,
      );
    }
    const { memory, ns_malloc, ns_free } = this.exports;
    try {
      const len = input.length;
      const inPtr = ns_malloc(len, 1) >>> 0; // i32 results arrive signed: read them as u32
      if (inPtr === 0 && len > 0) {
        throw new AbiError('alloc-failed', `the guest could not allocate ${len} bytes`);
      }
      // `memory.buffer` is replaced when memory grows: take it after every call into the guest.
      new Uint8Array(memory.buffer, check(memory, 'the input buffer', inPtr, len), len).set(input);

      const regionPtr = fn(inPtr, len) >>> 0;
      if (regionPtr % RESULT_ALIGN !== 0) {
        throw new AbiError(
          'misaligned',
          `the result region at 0x${regionPtr.toString(16)} is not aligned to ${RESULT_ALIGN}`,
        );
      }
      const view = new DataView(memory.buffer, check(memory, 'the result region', regionPtr, RESULT_SIZE), RESULT_SIZE);
      const outPtr = view.getUint32(0, true);
      const outLen = view.getUint32(4, true);
      if (outLen > this.limits.maxOutputBytes) {
        throw new AbiError(
          'output-too-large',
          `the output is ${outLen} bytes, over the ${this.limits.maxOutputBytes}-byte limit`,
        );
      }
      const start = check(memory, 'the output', outPtr, outLen);
      const output = new Uint8Array(memory.buffer).slice(start, start + outLen);

      ns_free(inPtr, len, 1);
      ns_free(outPtr, outLen, 1);
      ns_free(regionPtr, RESULT_SIZE, RESULT_ALIGN);
      return output;
    } catch (e) {
      // Any failure after the guest ran leaves its memory in an unknown state.
      this.poisoned = true;
      if (e instanceof AbiError) throw e;
      throw new AbiError('trap', `the guest trapped: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

/** `ptr` if `[ptr, ptr + len)` lies inside memory as it is now; throws otherwise. */
function check(memory: WebAssembly.Memory, what: string, ptr: number, len: number): number {
  const size = memory.buffer.byteLength;
  // Both are u32 here, so the sum is exact in a double: no overflow to worry about.
  if (ptr + len > size) {
    throw new AbiError(
      'out-of-bounds',
      `the guest returned ${what} at 0x${ptr.toString(16)} with length ${len}, outside its ${size}-byte memory`,
    );
  }
  return ptr;
}


function unwrap<T>(response: Response<T>): T {
  if (response.ok) return response.value;
  throw new GuestError(response.error);
}
