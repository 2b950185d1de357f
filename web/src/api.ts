/** The server's JSON API (`boundary serve`, host/server). */

import type { ErrorBody, NewTodo, PathName, Todo, TransformResponse } from './api-types';
import type { SomeDataStruct } from './component';

// The types are generated from the server's serde types: see api-types.ts.
export type { CallTraffic, ErrorBody, NewTodo, PathName, Status, Todo, TransformResponse } from './api-types';
/** What `POST /api/transform` answers. */
export type ServerTransform = TransformResponse;

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(method: string, url: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.headers = { 'content-type': 'application/json' };
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url, init);
  if (!response.ok) {
    let message = `${method} ${url}: HTTP ${response.status}`;
    try {
      const json = (await response.json()) as Partial<ErrorBody> | null;
      if (typeof json?.error === 'string') {
        message = `${message}: ${json.error}`;
      }
    } catch {
      // Not JSON: keep the status line.
    }
    throw new ApiError(response.status, message);
  }
  return response.status === 204 ? (undefined as T) : ((await response.json()) as T);
}

export const listTodos = () => call<Todo[]>('GET', '/api/todos');
export const createTodo = (title: string) => call<Todo>('POST', '/api/todos', { title } satisfies NewTodo);
export const markDone = (id: number) => call<Todo>('POST', `/api/todos/${id}/done`);
export const deleteTodo = (id: number) => call<undefined>('DELETE', `/api/todos/${id}`);
export const serverTransform = (path: PathName, input: SomeDataStruct) =>
  call<TransformResponse>('POST', `/api/transform?path=${encodeURIComponent(path)}`, input);
