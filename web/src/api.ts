/** The server's JSON API (host/src/serve.rs). */

import type { SomeDataStruct } from './component';

export type Status = 'PENDING' | 'DONE';

export interface Todo {
  id: number;
  title: string;
  status: Status;
}

export interface ServerTransform {
  path: 'component' | 'raw';
  output: SomeDataStruct;
  guest_calls: number;
  bytes_in: number;
  bytes_out: number;
  elapsed_us: number;
}

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
      const json: unknown = await response.json();
      if (typeof json === 'object' && json !== null && 'error' in json && typeof json.error === 'string') {
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
export const createTodo = (title: string) => call<Todo>('POST', '/api/todos', { title });
export const markDone = (id: number) => call<Todo>('POST', `/api/todos/${id}/done`);
export const deleteTodo = (id: number) => call<undefined>('DELETE', `/api/todos/${id}`);
export const serverTransform = (path: 'component' | 'raw', input: SomeDataStruct) =>
  call<ServerTransform>('POST', `/api/transform?path=${path}`, input);
