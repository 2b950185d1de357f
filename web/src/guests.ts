/** Loads the three browser paths once for the whole app. */

import { createContext, useContext } from 'react';

import type { BindgenGuest } from './bindgen';
import type { ComponentGuest } from './component';
import type { RawGuest } from './raw/guest';
import { shippedBytes } from './wasm';

export interface Shipped {
  glueJs: number | undefined;
  wasm: number | undefined;
}

export interface Guests {
  component: ComponentGuest;
  raw: RawGuest;
  /** The wasm-bindgen peer (guest/bindgen): for the comparison only. */
  bindgen: BindgenGuest;
  /** What each path cost to download, measured by the browser. */
  shipped: { component: Shipped; raw: Shipped; bindgen: Shipped };
}

function sum(values: (number | undefined)[]): number | undefined {
  return values.every((v) => v !== undefined) ? values.reduce<number>((a, b) => a + (b ?? 0), 0) : undefined;
}

async function load(): Promise<Guests> {
  // Each path is a chunk of its own, so its glue can be weighed.
  const [componentPath, rawPath, bindgenPath] = await Promise.all([
    import('./paths/componentPath'),
    import('./paths/rawPath'),
    import('./paths/bindgenPath'),
  ]);
  const [component, raw, bindgen] = await Promise.all([componentPath.load(), rawPath.load(), bindgenPath.load()]);
  const weigh = (path: { glueUrl: string; wasmUrls: string[] }): Shipped => ({
    glueJs: shippedBytes(path.glueUrl),
    wasm: sum(path.wasmUrls.map(shippedBytes)),
  });
  return {
    component,
    raw,
    bindgen,
    shipped: { component: weigh(componentPath), raw: weigh(rawPath), bindgen: weigh(bindgenPath) },
  };
}

let loading: Promise<Guests> | undefined;

/** The one load of the app: later calls (React's StrictMode runs effects twice) share it. */
export function loadGuests(): Promise<Guests> {
  loading ??= load();
  return loading;
}

export const GuestsContext = createContext<Guests | null>(null);

export function useGuests(): Guests {
  const guests = useContext(GuestsContext);
  if (guests === null) throw new Error('useGuests outside a loaded app');
  return guests;
}
