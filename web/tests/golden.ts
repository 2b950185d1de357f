/**
 * The golden wire vectors of `kernel/golden/wire.json`, which `kernel/tests/golden.rs` checks
 * against the Rust kernel, in the shapes the TypeScript ptr/len module uses. The tests read the
 * bytes from here instead of restating them.
 */

import wire from '../../kernel/golden/wire.json' with { type: 'json' };

import type { SomeDataStruct } from '../src/component';
import type { GuestErrorValue, Response } from '../src/raw/postcard';

export interface Vector<T> {
  name: string;
  value: T;
  bytes: Uint8Array;
}

/** The bytes a `hex` field spells; whitespace separates groups and is ignored. */
export function bytes(hex: string): Uint8Array {
  const digits = hex.replace(/\s+/g, '');
  if (!/^(?:[0-9a-f]{2})*$/i.test(digits)) throw new Error(`wire.json: ${JSON.stringify(hex)} is not hex bytes`);
  return Uint8Array.from(digits.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The single `{"Variant": payload}` entry of a serde enum value. */
function variant(value: unknown, what: string): [string, unknown] {
  const entries = isObject(value) ? Object.entries(value) : [];
  const [first] = entries;
  if (entries.length !== 1 || first === undefined) throw new Error(`wire.json: ${JSON.stringify(value)} is not ${what}`);
  return first;
}

function record(value: unknown): SomeDataStruct {
  if (
    isObject(value) &&
    typeof value['name'] === 'string' &&
    Array.isArray(value['names']) &&
    value['names'].every((n) => typeof n === 'string')
  ) {
    return { name: value['name'], names: value['names'] as string[] };
  }
  throw new Error(`wire.json: ${JSON.stringify(value)} is not a record`);
}

function string(value: unknown): string {
  if (typeof value === 'string') return value;
  throw new Error(`wire.json: ${JSON.stringify(value)} is not a string`);
}

/** The kind `src/raw/postcard.ts` gives each `GuestError` variant of wire.rs. */
const KINDS = { Decode: 'decode', TrailingBytes: 'trailing-bytes', Encode: 'encode' } as const;

export function kind(name: string): GuestErrorValue['kind'] {
  if (name in KINDS) return KINDS[name as keyof typeof KINDS];
  throw new Error(`wire.json: unknown GuestError variant ${name}`);
}

function guestError(value: unknown): GuestErrorValue {
  const [name, fields] = variant(value, 'a GuestError');
  const k = kind(name);
  if (!isObject(fields)) throw new Error(`wire.json: ${JSON.stringify(value)} has no fields`);
  if (k === 'trailing-bytes') return { kind: k, count: BigInt(fields['count'] as number) };
  return { kind: k, message: string(fields['message']) };
}

function response<T>(value: unknown, ok: (value: unknown) => T): Response<T> {
  const [tag, payload] = variant(value, 'a Result');
  if (tag === 'Ok') return { ok: true, value: ok(payload) };
  if (tag === 'Err') return { ok: false, error: guestError(payload) };
  throw new Error(`wire.json: ${JSON.stringify(value)} is not a Result`);
}

function vectors<T>(list: { name: string; value: unknown; hex: string }[], read: (value: unknown) => T): Vector<T>[] {
  return list.map((v) => ({ name: v.name, value: read(v.value), bytes: bytes(v.hex) }));
}

export const records = vectors(wire.records, record);
export const strings = vectors(wire.strings, string);
export const stringResponses = vectors(wire.string_responses, (v) => response(v, string));
export const recordResponses = vectors(wire.record_responses, (v) => response(v, record));
/** Bytes that are no record: `kind` is the error the guest must answer with. */
export const rejectedRecords = wire.rejected_records.map((v) => ({
  name: v.name,
  bytes: bytes(v.hex),
  kind: kind(v.error),
}));

/** The record of the vector called `name`. */
export function namedRecord(name: string): SomeDataStruct {
  const found = records.find((r) => r.name === name);
  if (found === undefined) throw new Error(`wire.json has no record called ${JSON.stringify(name)}`);
  return found.value;
}

/** The seed chapter's example record, `name3` / `["name1", "name2"]`. */
export const example = namedRecord('the seed example');
