// Generated from the serde types of host/server/src/api.rs by ts-rs: do not edit.
// Regenerate with `BOUNDARY_BLESS=1 cargo test -p boundary-server --test all typescript`.

import type { SomeDataStruct } from './component';

/** The name of a registered path: what `POST /api/transform?path=` takes. */
export type PathName = "component" | "raw";

/**
 * A to-do item's state.
 */
export type Status = "PENDING" | "DONE";

/**
 * A to-do item.
 */
export type Todo = { 
/**
 * Assigned by the store, never reused.
 */
id: number, 
/**
 * What to do.
 */
title: string, 
/**
 * `PENDING` or `DONE`.
 */
status: Status, };

/**
 * The body of `POST /api/todos`.
 */
export type NewTodo = { 
/**
 * What to do: trimmed, not empty, at most 200 characters.
 */
title: string, };

/**
 * What one call moved across the boundary (the library's `Traffic`, as JSON).
 */
export type CallTraffic = { 
/**
 * Entries from the host into guest code.
 */
guest_calls: number, 
/**
 * Payload bytes copied into the guest.
 */
bytes_in: number, 
/**
 * Payload bytes copied out of it.
 */
bytes_out: number, };

/**
 * The response of `POST /api/transform`.
 */
export type TransformResponse = { 
/**
 * The path whose guest ran.
 */
path: PathName, 
/**
 * What it returned.
 */
output: SomeDataStruct, 
/**
 * Wall time of the call on the server, in microseconds.
 */
elapsed_us: number, 
/**
 * Entries from the host into guest code.
 */
guest_calls: number, 
/**
 * Payload bytes copied into the guest.
 */
bytes_in: number, 
/**
 * Payload bytes copied out of it.
 */
bytes_out: number, };

/**
 * The body of every error response.
 */
export type ErrorBody = { 
/**
 * What went wrong, with its causes, on one line.
 */
error: string, };
