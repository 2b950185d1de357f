import { useEffect, useState } from 'react';

import { Comparison } from './Comparison';
import { type Guests, GuestsContext, loadGuests } from './guests';
import { TodoLists } from './TodoLists';
import { TransformPanel } from './TransformPanel';

type Load = { state: 'loading' } | { state: 'error'; message: string } | { state: 'ready'; guests: Guests };

export function App() {
  const [load, setLoad] = useState<Load>({ state: 'loading' });
  useEffect(() => {
    let live = true;
    loadGuests().then(
      (guests) => live && setLoad({ state: 'ready', guests }),
      (e: unknown) => live && setLoad({ state: 'error', message: e instanceof Error ? e.message : String(e) }),
    );
    return () => {
      live = false;
    };
  }, []);

  return (
    <main>
      <header>
        <h1>One record, three paths</h1>
        <p>
          The <code>transformer</code> component the Rust host embeds, running in this page through jco, beside
          the hand-written ptr/len core module driven by a small TypeScript module, and the same code built with
          wasm-bindgen.
        </p>
      </header>
      {load.state === 'loading' && (
        <p className="status" role="status" data-testid="loading">
          Loading the WebAssembly component…
        </p>
      )}
      {load.state === 'error' && (
        <div className="error" role="alert" data-testid="load-error">
          <h2>The WebAssembly could not be loaded</h2>
          <p>{load.message}</p>
        </div>
      )}
      {load.state === 'ready' && (
        <GuestsContext.Provider value={load.guests}>
          <TodoLists />
          <TransformPanel />
          <Comparison />
        </GuestsContext.Provider>
      )}
    </main>
  );
}
