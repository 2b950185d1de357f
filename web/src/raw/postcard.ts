/**
 * The postcard encoding of `kernel/src/wire.rs`, for the three types that cross the ptr/len
 * boundary: the record, a string, and `Result<T, GuestError>`.
 *
 * - an unsigned integer is a LEB128 varint (7 bits a byte, low group first, high bit = "more");
 * - a string is its UTF-8 length as a varint, then the UTF-8 bytes;
 * - a list is its length as a varint, then its items; a struct is its fields in order;
 * - an enum (`Result`, `GuestError`) is its variant index as a varint, then the payload.
 */

import type { SomeDataStruct } from '../generated/component';

/** The guest's own error, the `Err` of a response (`GuestError` in wire.rs). */
export type GuestErrorValue =
  | { kind: 'decode'; message: string }
  | { kind: 'trailing-bytes'; count: bigint }
  | { kind: 'encode'; message: string };

/** Bytes that are not a valid encoding of the expected value. */
export class PostcardError extends Error {
  override name = 'PostcardError';
}

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** An append-only byte buffer that doubles when full. */
class Writer {
  private buf = new Uint8Array(64);
  private len = 0;

  private reserve(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + extra) size *= 2;
    const bigger = new Uint8Array(size);
    bigger.set(this.buf.subarray(0, this.len));
    this.buf = bigger;
  }

  /** A u32 as a varint: at most 5 bytes. */
  varint(value: number): void {
    if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
      throw new RangeError(`${value} is not a u32`);
    }
    this.reserve(5);
    let v = value;
    while (v >= 0x80) {
      this.buf[this.len++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.len++] = v;
  }

  string(value: string): void {
    // UTF-16 code units become at most 3 UTF-8 bytes each: encode straight into the buffer.
    this.reserve(5 + value.length * 3);
    const scratch = this.buf.subarray(this.len + 5);
    const { written } = utf8.encodeInto(value, scratch);
    // Now the length is known: write its varint, then move the bytes up against it if the
    // varint took fewer than the 5 bytes left free.
    const start = this.len;
    this.varint(written);
    this.buf.copyWithin(this.len, start + 5, start + 5 + written);
    this.len += written;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** Reads values from the front of `bytes`, checking every length against what is left. */
class Reader {
  private pos = 0;
  constructor(private readonly bytes: Uint8Array) {}

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  /** A varint of at most `maxBytes` bytes, as a bigint (a u64 needs up to 10). */
  private varintBig(maxBytes: number): bigint {
    let value = 0n;
    for (let i = 0; i < maxBytes; i++) {
      const byte = this.bytes[this.pos];
      if (byte === undefined) throw new PostcardError('unexpected end of input in a varint');
      this.pos++;
      value |= BigInt(byte & 0x7f) << BigInt(7 * i);
      if ((byte & 0x80) === 0) return value;
    }
    throw new PostcardError(`varint longer than ${maxBytes} bytes`);
  }

  u32(): number {
    const v = this.varintBig(5);
    if (v > 0xffff_ffffn) throw new PostcardError(`varint ${v} does not fit a u32`);
    return Number(v);
  }

  u64(): bigint {
    const v = this.varintBig(10);
    if (v > 0xffff_ffff_ffff_ffffn) throw new PostcardError(`varint ${v} does not fit a u64`);
    return v;
  }

  string(): string {
    const len = this.u32();
    if (len > this.remaining) {
      throw new PostcardError(`a string of ${len} bytes with only ${this.remaining} left`);
    }
    const slice = this.bytes.subarray(this.pos, this.pos + len);
    this.pos += len;
    try {
      return utf8Strict.decode(slice);
    } catch {
      throw new PostcardError('a string that is not valid UTF-8');
    }
  }

  /** A list length, refused if even one-byte items could not fill it. */
  listLength(): number {
    const len = this.u32();
    if (len > this.remaining) {
      throw new PostcardError(`a list of ${len} items with only ${this.remaining} bytes left`);
    }
    return len;
  }

  end(): void {
    if (this.remaining !== 0) throw new PostcardError(`${this.remaining} trailing bytes`);
  }
}

export function encodeRecord(record: SomeDataStruct): Uint8Array {
  const w = new Writer();
  w.string(record.name);
  w.varint(record.names.length);
  for (const name of record.names) w.string(name);
  return w.finish();
}

export function encodeString(value: string): Uint8Array {
  const w = new Writer();
  w.string(value);
  return w.finish();
}

export type Response<T> = { ok: true; value: T } | { ok: false; error: GuestErrorValue };

function decodeResponse<T>(bytes: Uint8Array, value: (r: Reader) => T): Response<T> {
  const r = new Reader(bytes);
  let response: Response<T>;
  switch (r.u32()) {
    case 0:
      response = { ok: true, value: value(r) };
      break;
    case 1:
      response = { ok: false, error: guestError(r) };
      break;
    default:
      throw new PostcardError('a Result tag other than 0 (Ok) or 1 (Err)');
  }
  r.end();
  return response;
}

function guestError(r: Reader): GuestErrorValue {
  const variant = r.u32();
  switch (variant) {
    case 0:
      return { kind: 'decode', message: r.string() };
    case 1:
      return { kind: 'trailing-bytes', count: r.u64() };
    case 2:
      return { kind: 'encode', message: r.string() };
    default:
      throw new PostcardError(`unknown GuestError variant ${variant}`);
  }
}

function record(r: Reader): SomeDataStruct {
  const name = r.string();
  const count = r.listLength();
  const names = new Array<string>(count);
  for (let i = 0; i < count; i++) names[i] = r.string();
  return { name, names };
}

/** Decodes `postcard(Response<SomeDataStruct>)`, which must fill `bytes` exactly. */
export function decodeRecordResponse(bytes: Uint8Array): Response<SomeDataStruct> {
  return decodeResponse(bytes, record);
}

/** Decodes `postcard(Response<String>)`, which must fill `bytes` exactly. */
export function decodeStringResponse(bytes: Uint8Array): Response<string> {
  return decodeResponse(bytes, (r) => r.string());
}
