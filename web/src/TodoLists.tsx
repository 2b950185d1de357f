import { type FormEvent, useCallback, useEffect, useState } from 'react';

import { type Todo, createTodo, deleteTodo, listTodos, markDone } from './api';
import { useGuests } from './guests';

/**
 * The longest title the server accepts, in characters (`MAX_TITLE_CHARS` in
 * host/cli/src/commands/serve.rs; e2e.test.ts checks the two agree). `maxLength` counts UTF-16
 * code units, so a title of astral characters is capped sooner than the server would: never later.
 */
const MAX_TITLE_CHARS = 200;

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Pending and Done lists. Mounted only once the component has loaded, so items come after it. */
export function TodoLists() {
  const { component } = useGuests();
  const [todos, setTodos] = useState<Todo[] | null>(null);
  // The last action's error. It stays until the next action starts: the refresh that follows a
  // failed action must not hide it.
  const [error, setError] = useState<string | null>(null);
  const [title, setTitle] = useState('');

  /** Reloads the lists; sets an error only when the reload itself fails, and never clears one. */
  const refresh = useCallback(async () => {
    try {
      setTodos(await listTodos());
    } catch (e) {
      setError(message(e));
    }
  }, []);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  /** Runs one user action: clears the previous error, keeps this one's, then reloads the lists. */
  const perform = async (action: () => Promise<void>) => {
    setError(null);
    try {
      await action();
    } catch (e) {
      setError(message(e));
    }
    await refresh();
  };

  // The item's status decides the action; the component only labels the button.
  const act = (todo: Todo) =>
    perform(async () => {
      if (todo.status === 'PENDING') await markDone(todo.id);
      else await deleteTodo(todo.id);
    });

  const add = (event: FormEvent) => {
    event.preventDefault();
    return perform(async () => {
      await createTodo(title);
      setTitle('');
    });
  };

  const list = (status: Todo['status'], heading: string) => {
    const items = (todos ?? []).filter((t) => t.status === status);
    return (
      <div className="list" data-testid={`list-${status.toLowerCase()}`}>
        <h3>
          {heading} <span className="count">{items.length}</span>
        </h3>
        <ul>
          {items.map((todo) => (
            <li key={todo.id} data-testid="todo">
              <span className="title">{todo.title}</span>
              <button type="button" onClick={() => void act(todo)}>
                {component.buttonText(todo.status)}
              </button>
            </li>
          ))}
          {items.length === 0 && <li className="empty">nothing</li>}
        </ul>
      </div>
    );
  };

  return (
    <section data-testid="todos">
      <h2>To-do</h2>
      <p className="note">
        Every button label is <code>button-text(status)</code> from the component in this page.
      </p>
      {error !== null && (
        <p className="error" role="alert" data-testid="todo-error">
          {error}
        </p>
      )}
      {todos === null && error === null && <p className="status">Loading the to-do items…</p>}
      {todos !== null && (
        <div className="lists">
          {list('PENDING', 'Pending')}
          {list('DONE', 'Done')}
        </div>
      )}
      <form onSubmit={(e) => void add(e)} className="add">
        <input
          aria-label="New to-do item"
          placeholder="A new item"
          value={title}
          maxLength={MAX_TITLE_CHARS}
          data-testid="new-title"
          onChange={(e) => setTitle(e.target.value)}
        />
        <button type="submit" disabled={title.trim() === ''}>
          Add
        </button>
      </form>
    </section>
  );
}
