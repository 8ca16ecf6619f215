/**
 * `model.predict` against raw `InferenceSession.run` on the same fixture model, in one process,
 * interleaved, at batch 1 and batch 64. The ratio is Modelship's time over onnxruntime's, the
 * median of per-round ratios. The A/A column times raw `run` on a second session against the
 * first in the same rounds: the load probe (1.00 on a quiet host; its spread is the noise floor).
 */
import { fileURLToPath } from 'node:url';
import { loadModel } from '@modelship/node';
import * as ort from 'onnxruntime-node';
import { formatNs, interleave, pairedRatio, table } from './lib/interleave';

const MODEL = fileURLToPath(new URL('../fixtures/models/fraud.onnx', import.meta.url));

export async function predictOverhead(): Promise<string> {
  const sessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1 };
  const session = await ort.InferenceSession.create(MODEL, sessionOptions);
  const twin = await ort.InferenceSession.create(MODEL, sessionOptions);
  const model = await loadModel(MODEL, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const rows: string[][] = [];
  for (const batch of [1, 64]) {
    const data = Float32Array.from({ length: batch * 12 }, (_, i) => Math.sin(i));
    const shape = [batch, 12];
    const results = await interleave([
      { name: 'onnxruntime', run: () => session.run({ features: new ort.Tensor('float32', data, shape) }) },
      { name: 'modelship', run: () => model.predict({ features: { dtype: 'float32', shape, data } }) },
      {
        name: 'onnxruntime (A/A)',
        run: () => twin.run({ features: new ort.Tensor('float32', data, shape) }),
      },
    ]);
    const [raw, ours, aa] = results as [(typeof results)[0], (typeof results)[0], (typeof results)[0]];
    rows.push([
      String(batch),
      formatNs(raw.medianNs),
      formatNs(ours.medianNs),
      pairedRatio(ours, raw).toFixed(3),
      pairedRatio(aa, raw).toFixed(3),
    ]);
  }
  await session.release();
  await twin.release();
  await model.dispose();
  return table(['batch', 'onnxruntime run', 'modelship predict', 'ratio', 'A/A (load probe)'], rows);
}
