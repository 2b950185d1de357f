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
  /** Median microseconds per call. */
  componentUs: number;
  rawUs: number;
  /** Calls per timed batch (cheap calls are batched to get past the timer's resolution). */
  batch: number;
  equal: boolean;
}

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

/** The same transform through both browser paths, timed, with what each path downloads. */
export function Comparison() {
  const { component, raw, shipped } = useGuests();
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
        const a = component.transform(input);
        const b = raw.transform(input);
        const equal =
          sameRecord(a, b) && sameRecord(a, { name: input.name, names: [...input.names, NEW_NAME] });
        const timedComponent = perCall(() => component.transform(input));
        const timedRaw = perCall(() => raw.transform(input));
        const row: Row = {
          label: c.label,
          componentUs: timedComponent.us,
          rawUs: timedRaw.us,
          batch: Math.min(timedComponent.batch, timedRaw.batch),
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
      <h2>Component vs hand-written ptr/len, in this browser</h2>
      <p className="note">
        (a) the component through jco's generated bindings; (b) the core module through{' '}
        <code>WebAssembly.instantiate</code>, <code>ns_malloc</code>, a copy into memory,{' '}
        <code>entry_point</code>, a postcard decode of the result and <code>ns_free</code>.
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
                <th>component (jco)</th>
                <th>ptr/len (TS)</th>
                <th>ptr/len ÷ component</th>
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
                  data-equal={String(r.equal)}
                >
                  <td>{r.label}</td>
                  <td className="num">{formatUs(r.componentUs)}</td>
                  <td className="num">{formatUs(r.rawUs)}</td>
                  <td className="num">{(r.rawUs / r.componentUs).toFixed(2)}×</td>
                  <td className={r.equal ? 'ok' : 'error'}>{r.equal ? '✓ equal' : '✗ differ'}</td>
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
          {(
            [
              ['component (jco)', 'component', shipped.component],
              ['ptr/len (TS)', 'raw', shipped.raw],
            ] as [string, string, Shipped][]
          ).map(([label, key, s]) => (
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

/** Per-call time of both paths as horizontal bars on a log scale. */
function Chart({ rows }: { rows: Row[] }) {
  const values = rows.flatMap((r) => [r.componentUs, r.rawUs]).filter((v) => v > 0);
  const lo = Math.floor(Math.log10(Math.min(...values)));
  const hi = Math.ceil(Math.log10(Math.max(...values)));
  const left = 120;
  const width = 520;
  const bar = 12;
  const rowHeight = 2 * bar + 14;
  const height = rows.length * rowHeight + 24;
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
      {decades.map((d) => (
        <g key={d}>
          <line x1={x(10 ** d)} x2={x(10 ** d)} y1={0} y2={height - 18} className="grid" />
          <text x={x(10 ** d)} y={height - 4} textAnchor="middle" className="axis">
            {formatUs(10 ** d)}
          </text>
        </g>
      ))}
      {rows.map((r, i) => {
        const y = i * rowHeight + 4;
        return (
          <g key={r.label}>
            <text x={left - 8} y={y + bar + 4} textAnchor="end" className="label">
              {r.label}
            </text>
            {(
              [
                [r.componentUs, 'component', 0],
                [r.rawUs, 'raw', bar],
              ] as const
            ).map(([us, kind, dy]) => (
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
