/**
 * Runs in Chromium: `predict` from @modelship/browser against raw onnxruntime-web
 * `session.run` on the same model bytes, interleaved, as bench/lib/interleave.ts does in Node.
 */
import { loadModel } from '@modelship/browser';
import * as ort from 'onnxruntime-web/wasm';

interface Row {
  batch: number;
  rawNs: number;
  oursNs: number;
  ratio: number;
}

async function measure(): Promise<Row[]> {
  const bytes = new Uint8Array(await (await fetch('/models/fraud.onnx')).arrayBuffer());
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const model = await loadModel(bytes, { numThreads: 1 });
  const rows: Row[] = [];
  for (const batch of [1, 64]) {
    const data = Float32Array.from({ length: batch * 12 }, (_, i) => Math.sin(i));
    const shape = [batch, 12];
    const variants = [
      () => session.run({ features: new ort.Tensor('float32', data, shape) }),
      () => model.predict({ features: { dtype: 'float32', shape, data } }),
    ];
    for (const v of variants) for (let i = 0; i < 2000; i++) await v();
    const rounds: [number, number][] = [];
    for (let r = 0; r < 1001; r++) {
      const times: number[] = [0, 0];
      const order = r % 2 === 0 ? [0, 1] : [1, 0];
      for (const k of order) {
        const start = performance.now();
        for (let i = 0; i < 20; i++) await variants[k]!();
        times[k] = ((performance.now() - start) / 20) * 1e6;
      }
      rounds.push([times[0]!, times[1]!]);
    }
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    rows.push({
      batch,
      rawNs: med(rounds.map((r) => r[0])),
      oursNs: med(rounds.map((r) => r[1])),
      ratio: med(rounds.map((r) => r[1] / r[0])),
    });
  }
  await session.release();
  await model.dispose();
  return rows;
}

Object.assign(window, { benchmark: measure });
