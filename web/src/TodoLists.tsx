import { type FormEvent, useCallback, useEffect, useState } from 'react';

import { type Todo, createTodo, deleteTodo, listTodos, markDone } from './api';
import { useGuests } from './guests';

/** Pending and Done lists. Mounted only once the component has loaded, so items come after it. */
export function TodoLists() {
  const { component } = useGuests();
  const [todos, setTodos] = useState<Todo[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [title, setTitle] = useState('');

  const refresh = useCallback(async () => {
    try {
      setTodos(await listTodos());
      setError(null);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  }, []);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  const act = async (todo: Todo) => {
    try {
      // The item's status decides the action; the component only labels the button.
      if (todo.status === 'PENDING') await markDone(todo.id);
      else await deleteTodo(todo.id);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
    await refresh();
  };

  const add = async (event: FormEvent) => {
    event.preventDefault();
    try {
      await createTodo(title);
      setTitle('');
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
    await refresh();
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
        <p className="error" role="alert">
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
          onChange={(e) => setTitle(e.target.value)}
        />
        <button type="submit" disabled={title.trim() === ''}>
          Add
        </button>
      </form>
    </section>
  );
}
