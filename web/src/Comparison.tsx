import { useState } from 'react';

import type { SomeDataStruct } from './component';
import { NEW_NAME } from './contract';
import { type Shipped, useGuests } from './guests';
import { sameRecord } from './TransformPanel';

interface Case {
  label: string;
  make: () => SomeDataStruct;
}

export const CASES: Case[] = [
  { label: 'seed example', make: () => ({ name: 'name3', names: ['name1', 'name2'] }) },
  { label: '1,000 names', make: () => ({ name: 'many', names: numbered(1_000) }) },
  { label: '100,000 names', make: () => ({ name: 'many', names: numbered(100_000) }) },
  // 524,288 two-byte characters: 1 MiB of UTF-8.
  { label: '1 MiB name', make: () => ({ name: 'é'.repeat(512 * 1024), names: [] }) },
];

function numbered(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `name-${String(i).padStart(6, '0')}`);
}

export interface Row {
  label: string;
  /** Median microseconds per call, through jco's bindings over the component. */
  componentUs: number;
  /** Through the hand-written TypeScript ptr/len module. */
  rawUs: number;
  /** Through wasm-bindgen's glue (serde-wasm-bindgen in the guest). */
  bindgenUs: number;
  /** Calls per timed batch (cheap calls are batched to get past the timer's resolution). */
  batch: number;
  /** All three paths returned the record the contract specifies. */
  equal: boolean;
}

/** The three paths, in column order: key, label, CSS class of its bars. */
const PATHS = [
  { key: 'component', label: 'component (jco)' },
  { key: 'bindgen', label: 'wasm-bindgen' },
  { key: 'raw', label: 'ptr/len (TS)' },
] as const;
type PathKey = (typeof PATHS)[number]['key'];

const usOf = (r: Row, key: PathKey): number =>
  key === 'component' ? r.componentUs : key === 'raw' ? r.rawUs : r.bindgenUs;

/**
 * Median time of one call: calls are batched until a batch takes 10 ms (performance.now() is
 * coarse in browsers), then five batches are timed.
 */
function perCall(f: () => void): { us: number; batch: number } {
  f(); // warm up, outside the timing
  let batch = 1;
  for (;;) {
    const start = performance.now();
    for (let i = 0; i < batch; i++) f();
    if (performance.now() - start >= 10 || batch >= 1 << 20) break;
    batch *= 2;
  }
  const samples: number[] = [];
  for (let s = 0; s < 5; s++) {
    const start = performance.now();
    for (let i = 0; i < batch; i++) f();
    samples.push(((performance.now() - start) * 1000) / batch);
  }
  samples.sort((a, b) => a - b);
  return { us: samples[2] ?? Number.NaN, batch };
}

const nextFrame = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** The same transform through the three browser paths, timed, with what each path downloads. */
export function Comparison() {
  const { component, raw, bindgen, shipped } = useGuests();
  const [rows, setRows] = useState<Row[]>([]);
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const run = async () => {
    setRunning(true);
    setRows([]);
    setError(null);
    try {
      for (const c of CASES) {
        await nextFrame(); // let the table show the rows so far
        const input = c.make();
        const want = { name: input.name, names: [...input.names, NEW_NAME] };
        const equal = [component, raw, bindgen].every((path) => sameRecord(path.transform(input), want));
        const timedComponent = perCall(() => component.transform(input));
        const timedBindgen = perCall(() => bindgen.transform(input));
        const timedRaw = perCall(() => raw.transform(input));
        const row: Row = {
          label: c.label,
          componentUs: timedComponent.us,
          rawUs: timedRaw.us,
          bindgenUs: timedBindgen.us,
          batch: Math.min(timedComponent.batch, timedRaw.batch, timedBindgen.batch),
          equal,
        };
        setRows((rows) => [...rows, row]);
      }
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setRunning(false);
    }
  };

  const done = !running && rows.length === CASES.length;
  return (
    <section data-testid="comparison" data-done={String(done)}>
      <h2>Component vs wasm-bindgen vs hand-written ptr/len, in this browser</h2>
      <p className="note">
        (a) the component through jco's generated bindings; (b) <code>guest/bindgen</code> through the glue
        wasm-bindgen-cli generates, the record passed as a plain object and converted in the guest by
        serde-wasm-bindgen; (c) the core module through <code>WebAssembly.instantiate</code>,{' '}
        <code>ns_malloc</code>, a copy into memory, <code>entry_point</code>, a postcard decode of the result and{' '}
        <code>ns_free</code>. All three run the same kernel on the same input.
      </p>
      <button type="button" onClick={() => void run()} disabled={running} data-testid="comparison-run">
        {running ? 'Running…' : 'Run comparison'}
      </button>
      {error !== null && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {rows.length > 0 && (
        <>
          <table data-testid="comparison-table">
            <thead>
              <tr>
                <th>input</th>
                {PATHS.map((p) => (
                  <th key={p.key}>{p.label}</th>
                ))}
                <th>component ÷ wasm-bindgen</th>
                <th>component ÷ ptr/len</th>
                <th>results</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr
                  key={r.label}
                  data-testid="comparison-row"
                  data-case={r.label}
                  data-component-us={r.componentUs}
                  data-raw-us={r.rawUs}
                  data-bindgen-us={r.bindgenUs}
                  data-equal={String(r.equal)}
                >
                  <td>{r.label}</td>
                  {PATHS.map((p) => (
                    <td key={p.key} className="num">
                      {formatUs(usOf(r, p.key))}
                    </td>
                  ))}
                  <td className="num">{(r.componentUs / r.bindgenUs).toFixed(2)}×</td>
                  <td className="num">{(r.componentUs / r.rawUs).toFixed(2)}×</td>
                  <td className={r.equal ? 'ok' : 'error'}>{r.equal ? '✓ all three equal' : '✗ differ'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Chart rows={rows} />
        </>
      )}
      <h3>Bytes each path ships</h3>
      <table data-testid="shipped">
        <thead>
          <tr>
            <th>path</th>
            <th>glue JS</th>
            <th>wasm</th>
            <th>total</th>
          </tr>
        </thead>
        <tbody>
          {PATHS.map((p): [string, string, Shipped] => [p.label, p.key, shipped[p.key]]).map(([label, key, s]) => (
            <tr key={key} data-testid={`shipped-${key}`} data-glue={s.glueJs} data-wasm={s.wasm}>
              <td>{label}</td>
              <td className="num">{formatBytes(s.glueJs)}</td>
              <td className="num">{formatBytes(s.wasm)}</td>
              <td className="num">
                {formatBytes(s.glueJs === undefined || s.wasm === undefined ? undefined : s.glueJs + s.wasm)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="note">Bodies as the browser received them (no compression), from the Resource Timing API.</p>
    </section>
  );
}

function formatUs(us: number): string {
  if (us < 10) return `${us.toFixed(2)} µs`;
  if (us < 1000) return `${us.toFixed(0)} µs`;
  if (us < 100_000) return `${(us / 1000).toFixed(2)} ms`;
  return `${(us / 1000).toFixed(0)} ms`;
}

function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined) return 'n/a';
  return bytes < 10_240 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`;
}

/** Per-call time of the three paths as horizontal bars on a log scale, with a legend. */
function Chart({ rows }: { rows: Row[] }) {
  const values = rows.flatMap((r) => PATHS.map((p) => usOf(r, p.key))).filter((v) => v > 0);
  const lo = Math.floor(Math.log10(Math.min(...values)));
  const hi = Math.ceil(Math.log10(Math.max(...values)));
  const left = 120;
  const width = 520;
  const bar = 12;
  const rowHeight = PATHS.length * bar + 14;
  const legend = 22;
  const height = legend + rows.length * rowHeight + 24;
  const x = (us: number) => left + ((Math.log10(us) - lo) / Math.max(1, hi - lo)) * width;
  const decades = Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
  return (
    <svg
      className="chart"
      viewBox={`0 0 ${left + width + 70} ${height}`}
      role="img"
      aria-label="Per-call time, log scale"
      data-testid="comparison-chart"
    >
      <g data-testid="comparison-legend">
        {PATHS.map((p, i) => (
          <g key={p.key} transform={`translate(${left + i * 170}, 4)`}>
            <rect width={bar} height={bar - 2} className={p.key} />
            <text x={bar + 6} y={bar - 3} className="label">
              {p.label}
            </text>
          </g>
        ))}
      </g>
      {decades.map((d) => (
        <g key={d}>
          <line x1={x(10 ** d)} x2={x(10 ** d)} y1={legend} y2={height - 18} className="grid" />
          <text x={x(10 ** d)} y={height - 4} textAnchor="middle" className="axis">
            {formatUs(10 ** d)}
          </text>
        </g>
      ))}
      {rows.map((r, i) => {
        const y = legend + i * rowHeight + 4;
        return (
          <g key={r.label}>
            <text x={left - 8} y={y + (PATHS.length * bar) / 2 + 4} textAnchor="end" className="label">
              {r.label}
            </text>
            {PATHS.map((p, j) => [usOf(r, p.key), p.key, j * bar] as const).map(([us, kind, dy]) => (
              <g key={kind}>
                <rect x={left} y={y + dy} width={Math.max(1, x(us) - left)} height={bar - 2} className={kind} />
                <text x={x(us) + 4} y={y + dy + bar - 3} className="value">
                  {formatUs(us)}
                </text>
              </g>
            ))}
          </g>
        );
      })}
    </svg>
  );
}
