/**
 * The browser's three paths, run in Node on the cases of the Rust differential tests
 * (host/tests/all/differential.rs) and on the golden records of kernel/golden/wire.json: jco's
 * bindings over the component, wasm-bindgen's glue over guest/bindgen, and the hand-written
 * TypeScript ptr/len module over the core module. All must give the record the contract
 * specifies, and the same record as each other.
 */

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { before, describe, test } from 'node:test';

import { parse } from '@bytecodealliance/jco-transpile/wasm-tools';

import { type BindgenGuest, instantiateBindgen } from '../src/bindgen';
import { instantiateComponent, type ComponentGuest, type SomeDataStruct } from '../src/component';
import { LABELS, NEW_NAME } from '../src/contract';
import { AbiError, GuestError, RawGuest } from '../src/raw/guest';
import {
  decodeRecordResponse,
  decodeStringResponse,
  encodeRecord,
  encodeString,
} from '../src/raw/postcard';
import { example, recordResponses, records as recordVectors, rejectedRecords, stringResponses, strings } from './golden';

const web = new URL('../', import.meta.url);

async function compile(relative: string): Promise<WebAssembly.Module> {
  return WebAssembly.compile(await readFile(new URL(relative, web)));
}

let component: ComponentGuest;
let raw: RawGuest;
let bindgen: BindgenGuest;

before(async () => {
  component = await instantiateComponent(async (path) => compile(`src/generated/${path}`));
  raw = await RawGuest.instantiate(await compile('wasm/transformer.core.wasm'));
  bindgen = instantiateBindgen(await compile('src/generated-bindgen/bindgen_bg.wasm'));
});

/** What the WIT contract says `transform` returns. */
function expected(input: SomeDataStruct): SomeDataStruct {
  return { name: input.name, names: [...input.names, NEW_NAME] };
}

const records: [string, SomeDataStruct][] = [
  ['the seed example', example],
  ['empty name and names', { name: '', names: [] }],
  ['empty strings in names', { name: '', names: ['', '', ''] }],
  ['non-ASCII and 4-byte UTF-8', { name: 'Grüße, 世界 🦀', names: ['𝄞', 'é', '\u0000'] }],
  [
    '10,000 names',
    { name: 'many', names: Array.from({ length: 10_000 }, (_, i) => `name-${String(i).padStart(5, '0')}`) },
  ],
  ['a 1 MiB name of 2-byte characters', { name: 'é'.repeat(512 * 1024), names: ['x'] }],
  ['a 1 MiB ASCII name', { name: 'x'.repeat(1 << 20), names: [] }],
  // A name whose UTF-8 length needs a 3-byte varint, and emoji that are surrogate pairs in JS.
  ['20,000 emoji', { name: '😀'.repeat(20_000), names: ['🦀'.repeat(3)] }],
];

describe('transform', () => {
  for (const [label, input] of records) {
    test(label, () => {
      const want = expected(input);
      const viaComponent = component.transform(input);
      const viaRaw = raw.transform(input);
      const viaBindgen = bindgen.transform(input);
      assert.deepEqual(viaComponent, want, 'jco component');
      assert.deepEqual(viaRaw, want, 'TypeScript ptr/len');
      assert.deepEqual(viaBindgen, want, 'wasm-bindgen');
      assert.deepEqual(viaRaw, viaComponent, 'ptr/len and component agree');
      assert.deepEqual(viaBindgen, viaComponent, 'wasm-bindgen and component agree');
    });
  }

  for (const v of recordVectors) {
    test(`golden record: ${v.name}`, () => {
      const want = expected(v.value);
      assert.deepEqual(component.transform(v.value), want, 'jco component');
      assert.deepEqual(raw.transform(v.value), want, 'TypeScript ptr/len');
      assert.deepEqual(bindgen.transform(v.value), want, 'wasm-bindgen');
    });
  }

  test('wasm-bindgen: the input object is not changed, the output is a new plain object', () => {
    const input = { name: 'n', names: ['a'] };
    const out = bindgen.transform(input);
    assert.deepEqual(input, { name: 'n', names: ['a'] });
    assert.notEqual(out, input);
    assert.ok(Array.isArray(out.names));
    assert.deepEqual(Object.keys(out), ['name', 'names']);
  });

  test('wasm-bindgen: what is not a record is thrown as an Error, and the instance still works', () => {
    const bad: [string, unknown, RegExp][] = [
      ['a number for name', { name: 1, names: [] }, /string/],
      ['a missing names', { name: 'x' }, /names/],
      // serde-wasm-bindgen indexes the string as if it were an array: JS's own TypeError.
      ['a string in place of the list', { name: 'x', names: 'abc' }, /Reflect\.get called on non-object/],
      ['a number in the list', { name: 'x', names: ['a', 2] }, /string/],
      ['null', null, /expected struct SomeDataStruct/],
    ];
    for (const [label, input, message] of bad) {
      assert.throws(
        () => bindgen.transform(input as SomeDataStruct),
        (e: unknown) => e instanceof Error && message.test(e.message),
        label,
      );
    }
    assert.deepEqual(bindgen.transform(example), expected(example));
  });

  test('a field the record does not have is ignored by every path', () => {
    // serde-wasm-bindgen reads the fields it knows by name, so the kernel's deny_unknown_fields
    // never sees the extra one; jco's glue and the ptr/len encoder also read only name and names.
    const input = { name: 'x', names: [], extra: true } as SomeDataStruct;
    const want = { name: 'x', names: [NEW_NAME] };
    assert.deepEqual(bindgen.transform(input), want, 'wasm-bindgen');
    assert.deepEqual(component.transform(input), want, 'jco component');
    assert.deepEqual(raw.transform(input), want, 'TypeScript ptr/len');
  });

  test('wasm-bindgen: calls are reused without leaking', () => {
    const input = { name: 'é'.repeat(64 * 1024), names: ['a', 'b'] };
    bindgen.transform(input);
    const size = bindgen.memory.buffer.byteLength;
    for (let i = 0; i < 200; i++) assert.deepEqual(bindgen.transform(input), expected(input));
    assert.equal(bindgen.memory.buffer.byteLength, size, 'guest memory did not grow');
  });

  test('instances are reused across calls without leaking', () => {
    const input = { name: 'é'.repeat(64 * 1024), names: ['a', 'b'] };
    raw.transform(input);
    const memory = (raw as unknown as { exports: { memory: WebAssembly.Memory } }).exports.memory;
    const size = memory.buffer.byteLength;
    for (let i = 0; i < 200; i++) assert.deepEqual(raw.transform(input), expected(input));
    // 200 calls of ~128 KiB each would need 25 MiB if nothing were freed.
    assert.equal(memory.buffer.byteLength, size, 'guest memory did not grow');
  });
});

describe('button-text', () => {
  const cases: [string, string][] = [
    ['PENDING', LABELS.pending],
    ['pending', LABELS.pending],
    ['Pending', LABELS.pending],
    ['DONE', LABELS.done],
    ['done', LABELS.done],
    ['dOnE', LABELS.done],
    ['', LABELS.unknown],
    ['PENDING!', LABELS.unknown],
    [' DONE', LABELS.unknown],
    ['ǅONE', LABELS.unknown],
    ['🦀', LABELS.unknown],
  ];
  for (const [status, label] of cases) {
    test(JSON.stringify(status), () => {
      assert.equal(component.buttonText(status), label, 'jco component');
      assert.equal(raw.buttonText(status), label, 'TypeScript ptr/len');
      assert.equal(bindgen.buttonText(status), label, 'wasm-bindgen (rust_generate_button_text)');
    });
  }

  for (const v of strings) {
    test(`golden string: ${v.name}`, () => {
      const label = component.buttonText(v.value);
      assert.ok(Object.values(LABELS).includes(label), label);
      assert.equal(raw.buttonText(v.value), label, 'TypeScript ptr/len');
      assert.equal(bindgen.buttonText(v.value), label, 'wasm-bindgen');
    });
  }
});

describe('the postcard encoding matches kernel/golden/wire.json', () => {
  const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

  for (const v of recordVectors) {
    test(`record: ${v.name}`, () => assert.deepEqual(encodeRecord(v.value), v.bytes));
  }
  for (const v of strings) {
    test(`string: ${v.name}`, () => assert.deepEqual(encodeString(v.value), v.bytes));
  }
  for (const v of stringResponses) {
    test(`string response: ${v.name}`, () => assert.deepEqual(decodeStringResponse(v.bytes), v.value));
  }
  for (const v of recordResponses) {
    test(`record response: ${v.name}`, () => assert.deepEqual(decodeRecordResponse(v.bytes), v.value));
  }

  test('lengths over 127 take more than one varint byte', () => {
    const enc = encodeString('a'.repeat(300));
    assert.deepEqual([...enc.subarray(0, 2)], [0xac, 0x02]); // 300 = 0b10_0101100
    assert.equal(enc.length, 302);
  });

  test('bad output bytes are refused', () => {
    for (const bad of ['', '\x02', '\x00\x05edit', '\x00\x04edit!', '\x01\x03', '\x00\x02\xc3\x28']) {
      assert.throws(() => decodeStringResponse(bytes(bad)), { name: 'PostcardError' }, JSON.stringify(bad));
    }
    // A list that claims more names than there are bytes left.
    assert.throws(() => decodeRecordResponse(bytes('\x00\x00\xff\xff\x03')), { name: 'PostcardError' });
  });
});

describe('garbage input reaches the guest and comes back as its Err', () => {
  for (const { name, bytes, kind } of rejectedRecords) {
    test(name, () => {
      const response = raw.transformBytes(bytes);
      assert.equal(response.ok, false);
      assert.equal(!response.ok && response.error.kind, kind);
    });
  }

  test('trailing bytes are counted', () => {
    const input = new Uint8Array([...encodeRecord(example), 0x78, 0x79, 0x7a]);
    assert.deepEqual(raw.transformBytes(input), {
      ok: false,
      error: { kind: 'trailing-bytes', count: 3n },
    });
  });

  test('the instance still works afterwards', () => {
    assert.deepEqual(raw.transform(example), expected(example));
  });

  test('an Err response surfaces as a typed GuestError', () => {
    // button_text fed a record's bytes: its name is a string, the rest are trailing.
    const trailing = BigInt(encodeRecord(example).length - encodeString(example.name).length);
    const out = decodeStringResponse(raw.call('button_text', encodeRecord(example)));
    assert.deepEqual(out, { ok: false, error: { kind: 'trailing-bytes', count: trailing } });
    assert.match(new GuestError({ kind: 'trailing-bytes', count: trailing }).message, /\d+ unexpected bytes/);
  });
});

describe('limits', () => {
  test('an input over the cap is refused before the guest is called', async () => {
    const small = await RawGuest.instantiate(await compile('wasm/transformer.core.wasm'), {
      maxInputBytes: 64,
      maxOutputBytes: 1 << 20,
    });
    assert.deepEqual(small.transform({ name: 'x'.repeat(60), names: [] }).name.length, 60);
    assert.throws(
      () => small.transform({ name: 'x'.repeat(70), names: [] }),
      (e: unknown) => e instanceof AbiError && e.code === 'input-too-large',
    );
    // Refused before the call: the instance is still good.
    assert.equal(small.buttonText('DONE'), LABELS.done);
  });

  test('an output over the cap is refused before it is copied', async () => {
    // The output for a 52-byte name: Ok tag (1) + the name (1 + 52) + list length (1) + the new
    // name (its length's varint and its bytes). The cap is exactly that.
    const cap = 1 + encodeString('x'.repeat(52)).length + 1 + encodeString(NEW_NAME).length;
    const small = await RawGuest.instantiate(await compile('wasm/transformer.core.wasm'), {
      maxInputBytes: 1 << 20,
      maxOutputBytes: cap,
    });
    assert.equal(small.transform({ name: 'x'.repeat(52), names: [] }).names.length, 1);
    assert.throws(
      () => small.transform({ name: 'x'.repeat(53), names: [] }),
      (e: unknown) => e instanceof AbiError && e.code === 'output-too-large',
    );
  });
});

/**
 * Guests that break the ABI, written in WAT: the TypeScript module must refuse what they return
 * with a typed error instead of reading outside memory or trusting a huge length.
 */
describe('a guest that breaks the ABI is caught', () => {
  async function evil(entryBody: string, data = ''): Promise<RawGuest> {
    const wat = `(module
      (memory (export "memory") 1)
      (global $next (mut i32) (i32.const 1024))
      (func (export "ns_malloc") (param $size i32) (param $align i32) (result i32)
        (local $p i32)
        (local.set $p (global.get $next))
        (global.set $next (i32.add (global.get $next) (i32.add (local.get $size) (i32.const 8))))
        (local.get $p))
      (func (export "ns_free") (param i32 i32 i32))
      (func (export "entry_point") (param $ptr i32) (param $len i32) (result i32) ${entryBody})
      ${data})`;
    return RawGuest.instantiate(await WebAssembly.compile(new Uint8Array(await parse(wat))));
  }
  const region = (ptr: number, len: number) =>
    `(data (i32.const 16) "${[ptr, len]
      .flatMap((v) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24])
      .map((b) => `\\${b.toString(16).padStart(2, '0')}`)
      .join('')}")`;

  const cases: [string, string, string, string][] = [
    ['a region outside memory', '(i32.const 65532)', '', 'out-of-bounds'],
    ['a region at a negative (huge) address', '(i32.const -8)', '', 'out-of-bounds'],
    ['a misaligned region', '(i32.const 18)', '', 'misaligned'],
    ['an output past the end of memory', '(i32.const 16)', region(65000, 1000), 'out-of-bounds'],
    ['an output over the length cap', '(i32.const 16)', region(0, 0xffff_ffff), 'output-too-large'],
    ['an output that is not a response', '(i32.const 16)', region(16, 8), 'decode'],
    ['a trap', 'unreachable', '', 'trap'],
  ];
  for (const [label, body, data, code] of cases) {
    test(label, async () => {
      const guest = await evil(body, data);
      assert.throws(
        () => guest.transform(example),
        (e: unknown) => e instanceof AbiError && e.code === code,
      );
      // A guest that broke the ABI once is not called again.
      assert.throws(
        () => guest.transform(example),
        (e: unknown) => e instanceof AbiError && e.code === 'poisoned',
      );
    });
  }

  test('a module without button_text says so', async () => {
    const guest = await evil('(i32.const 16)', region(0, 0));
    assert.throws(
      () => guest.buttonText('DONE'),
      (e: unknown) => e instanceof AbiError && e.code === 'missing-export',
    );
  });
});
