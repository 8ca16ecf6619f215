/**
 * `model.predict` against raw `InferenceSession.run` on the same fixture model, in one process,
 * interleaved, at batch 1 and batch 64. The ratio is Modelship's time over onnxruntime's, the
 * median of per-round ratios, with a 95% interval of that median; it is given for wall time and
 * for CPU time (user + sys, every thread), which a loaded host disturbs far less. The A/A
 * columns time raw `run` on a second session against the first in the same rounds: the load
 * probe (1.00 on a quiet host; its distance from 1 is the noise floor).
 */
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { loadModel } from '@modelship/node';
import * as ort from 'onnxruntime-node';
import { formatNs, table } from './lib/interleave';
import { type PairedResult, paired, ratio } from './lib/paired';

const MODEL = fileURLToPath(new URL('../fixtures/models/fraud.onnx', import.meta.url));

export async function predictOverhead(): Promise<string> {
  const sessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1 };
  const session = await ort.InferenceSession.create(MODEL, sessionOptions);
  const twin = await ort.InferenceSession.create(MODEL, sessionOptions);
  const model = await loadModel(MODEL, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const load = () =>
    loadavg()
      .map((x) => x.toFixed(2))
      .join(' ');
  const before = load();
  const rows: string[][] = [];
  for (const batch of [1, 64]) {
    const data = Float32Array.from({ length: batch * 12 }, (_, i) => Math.sin(i));
    const shape = [batch, 12];
    const results = await paired(
      [
        { name: 'onnxruntime', run: () => session.run({ features: new ort.Tensor('float32', data, shape) }) },
        { name: 'modelship', run: () => model.predict({ features: { dtype: 'float32', shape, data } }) },
        {
          name: 'onnxruntime (A/A)',
          run: () => twin.run({ features: new ort.Tensor('float32', data, shape) }),
        },
      ],
      { rounds: 1001, callsPerRound: 20 },
    );
    const [raw, ours, aa] = results as [PairedResult, PairedResult, PairedResult];
    const median = (xs: number[]) => Float64Array.from(xs).sort()[xs.length >> 1]!;
    const per = (r: PairedResult) => `${formatNs(median(r.wall))} / ${formatNs(median(r.cpu))}`;
    // ratio(raw, x) is x's time over raw's, round by round.
    const cell = (x: PairedResult, which: 'wall' | 'cpu') => {
      const r = ratio(raw, x, which);
      return `${r.median.toFixed(3)} [${r.lo.toFixed(3)}–${r.hi.toFixed(3)}]`;
    };
    rows.push([
      String(batch),
      per(raw),
      per(ours),
      cell(ours, 'wall'),
      cell(ours, 'cpu'),
      cell(aa, 'wall'),
      cell(aa, 'cpu'),
    ]);
  }
  await session.release();
  await twin.release();
  await model.dispose();
  return [
    `load average ${before} at the start, ${load()} at the end; per call: median wall / CPU time;`,
    'ratios: median of per-round ratios [95% interval of the median]',
    '',
    table(
      [
        'batch',
        'onnxruntime run',
        'modelship predict',
        'ratio (wall)',
        'ratio (CPU)',
        'A/A (wall, load probe)',
        'A/A (CPU)',
      ],
      rows,
    ),
  ].join('\n');
}
