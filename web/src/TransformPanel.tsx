import { type FormEvent, useState } from 'react';

import { type ServerTransform, serverTransform } from './api';
import type { SomeDataStruct } from './component';
import { useGuests } from './guests';

interface Run {
  input: SomeDataStruct;
  browser: SomeDataStruct;
  browserUs: number;
  /** The same input through the page's two other paths: wasm-bindgen and the TypeScript ptr/len module. */
  peersAgree: boolean;
  server: { component: ServerTransform; raw: ServerTransform } | { error: string };
}

export function sameRecord(a: SomeDataStruct, b: SomeDataStruct): boolean {
  return a.name === b.name && a.names.length === b.names.length && a.names.every((n, i) => n === b.names[i]);
}

/**
 * Edit a record, transform it with the component in the page (checked against the page's
 * wasm-bindgen and ptr/len paths), and with both guests on the server.
 */
export function TransformPanel() {
  const { component, bindgen, raw } = useGuests();
  const [name, setName] = useState('name3');
  const [names, setNames] = useState('name1\nname2');
  const [run, setRun] = useState<Run | null>(null);
  const [error, setError] = useState<string | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const input: SomeDataStruct = { name, names: names === '' ? [] : names.split('\n') };
    try {
      const start = performance.now();
      const browser = component.transform(input);
      const browserUs = (performance.now() - start) * 1000;
      const peersAgree = sameRecord(browser, bindgen.transform(input)) && sameRecord(browser, raw.transform(input));
      setError(null);
      let server: Run['server'];
      try {
        const [c, r] = await Promise.all([serverTransform('component', input), serverTransform('raw', input)]);
        server = { component: c, raw: r };
      } catch (e) {
        server = { error: e instanceof Error ? e.message : String(e) };
      }
      setRun({ input, browser, browserUs, peersAgree, server });
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  const agree =
    run !== null &&
    !('error' in run.server) &&
    sameRecord(run.browser, run.server.component.output) &&
    sameRecord(run.browser, run.server.raw.output);

  return (
    <section data-testid="transform">
      <h2>Transform</h2>
      <form onSubmit={(e) => void submit(e)} className="transform-form">
        <label>
          name
          <input data-testid="transform-name" value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label>
          names, one a line
          <textarea
            data-testid="transform-names"
            rows={4}
            value={names}
            onChange={(e) => setNames(e.target.value)}
          />
        </label>
        <button type="submit" data-testid="transform-run">
          Run transform
        </button>
      </form>
      {error !== null && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {run !== null && (
        <div className="results">
          <figure>
            <figcaption>In this browser (jco), {run.browserUs.toFixed(0)} µs</figcaption>
            <pre data-testid="transform-output">{JSON.stringify(run.browser)}</pre>
          </figure>
          <p className={run.peersAgree ? 'ok' : 'error'} data-testid="transform-peers" data-agree={String(run.peersAgree)}>
            {run.peersAgree
              ? '✓ wasm-bindgen and ptr/len give the same record in this page'
              : '✗ wasm-bindgen or ptr/len gives a different record in this page'}
          </p>
          {'error' in run.server ? (
            <p className="error" role="alert">
              The server did not answer: {run.server.error}
            </p>
          ) : (
            <>
              {[run.server.component, run.server.raw].map((s) => (
                <figure key={s.path}>
                  <figcaption>
                    On the server ({s.path === 'component' ? 'wasmtime, component' : 'wasmtime, ptr/len'}),{' '}
                    {s.elapsed_us} µs, {s.guest_calls} guest calls
                  </figcaption>
                  <pre data-testid={`server-output-${s.path}`}>{JSON.stringify(s.output)}</pre>
                </figure>
              ))}
              <p className={agree ? 'ok' : 'error'} data-testid="transform-agree" data-agree={String(agree)}>
                {agree ? '✓ browser and server agree' : '✗ browser and server disagree'}
              </p>
            </>
          )}
        </div>
      )}
    </section>
  );
}
