/**
 * Benchmark data exchange: raw little-endian files that bench/train-engine.ts and
 * bench/train_reference.py both read, so every engine sees the same bytes.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Matrix } from '../ml/matrix';

export interface BenchData {
  X: Matrix;
  y: Uint8Array;
  Xtest: Matrix;
  ytest: Uint8Array;
}

export function writeBenchData(dir: string, d: BenchData): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'meta.json'), JSON.stringify({ rows: d.X.rows, test_rows: d.Xtest.rows, features: d.X.cols }));
  writeFileSync(join(dir, 'X_train.f64'), d.X.data);
  writeFileSync(join(dir, 'y_train.u8'), d.y);
  writeFileSync(join(dir, 'X_test.f64'), d.Xtest.data);
  writeFileSync(join(dir, 'y_test.u8'), d.ytest);
}

function readF64(path: string): Float64Array {
  const b = readFileSync(path);
  // copy: a Buffer may sit at an offset that is not a multiple of 8
  const out = new Float64Array(b.length / 8);
  new Uint8Array(out.buffer).set(b);
  return out;
}

export function readBenchData(dir: string): BenchData {
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { rows: number; test_rows: number; features: number };
  const cols = meta.features;
  return {
    X: { data: readF64(join(dir, 'X_train.f64')), rows: meta.rows, cols },
    y: new Uint8Array(readFileSync(join(dir, 'y_train.u8'))),
    Xtest: { data: readF64(join(dir, 'X_test.f64')), rows: meta.test_rows, cols },
    ytest: new Uint8Array(readFileSync(join(dir, 'y_test.u8'))),
  };
}
