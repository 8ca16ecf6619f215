/**
 * Records through a 10-field pipeline and the model (pipeline.wrap: transform, predict, answers)
 * against the model alone on pre-built tensors of the same values, interleaved in one process,
 * at batch 64 (the goal: at most 1.20×) and batch 1. The 10 fields make 12 columns: 8 numeric
 * (impute + standardize) and 2 two-category fields (one-hot). Two models take them: fraud.onnx,
 * a 12-weight logistic regression (8 µs per call: the pipeline's worst case), and two tabular MLPs
 * made by make_mlp.py, 12-256-256-2 (70 k weights) and 12-1024-1024-2 (1.1 M).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { impute, loadModel, oneHot, Pipeline, standardize, threshold } from '@modelship/node';
import { formatNs, interleave, pairedRatio, table } from './lib/interleave';

const FRAUD = fileURLToPath(new URL('../fixtures/models/fraud.onnx', import.meta.url));
const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';
const NUMERIC = Array.from({ length: 8 }, (_, i) => `n${i}`);

function records(n: number, seed: number): Record<string, number | string | null>[] {
  let s = seed;
  const random = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  return Array.from({ length: n }, () => {
    const r: Record<string, number | string | null> = {};
    for (const f of NUMERIC) r[f] = random() < 0.02 ? null : (random() - 0.5) * 6;
    r.plan = random() < 0.5 ? 'basic' : 'pro';
    r.channel = random() < 0.3 ? 'web' : 'store';
    return r;
  });
}

export async function pipelineOverhead(): Promise<string> {
  const pipeline = Pipeline.fit(records(2000, 1), {
    features: {
      ...Object.fromEntries(NUMERIC.map((f) => [f, [impute('median'), standardize()]])),
      plan: oneHot({ unknown: 'ignore' }),
      channel: oneHot({ unknown: 'ignore' }),
    },
  });
  const dir = mkdtempSync(join(tmpdir(), 'modelship-bench-'));
  const mlps = ['12,256,256,2', '12,1024,1024,2'].map((sizes) => {
    const path = join(dir, `mlp-${sizes.replaceAll(',', '-')}.onnx`);
    const made = spawnSync(PYTHON, [fileURLToPath(new URL('./make_mlp.py', import.meta.url)), path, sizes], {
      encoding: 'utf8',
    });
    return {
      name: `mlp ${sizes.replaceAll(',', '-')}`,
      path,
      output: 'probabilities',
      made: made.status === 0,
    };
  });
  const made = { status: mlps.every((m) => m.made) ? 0 : 1 };
  const models = [
    { name: 'fraud.onnx (LR)', path: FRAUD, output: 'probability' },
    ...mlps.filter((m) => m.made),
  ];
  const rows: string[][] = [];
  for (const m of models) {
    const model = await loadModel(m.path, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    const served = Pipeline.fromJSON({
      ...pipeline.toJSON(),
      input: model.signature.inputs[0]!.name,
      output: { probability: m.output, label: threshold(0.5, ['legit', 'fraud'], { from: m.output }) },
    }).wrap(model);
    for (const batch of [64, 1]) {
      const input = records(batch, 7 + batch);
      const tensors = served.pipeline.transform(input); // the same values, built once
      const results = await interleave(
        [
          { name: 'model', run: () => model.predict(tensors) },
          { name: 'pipeline', run: () => served.predict(input) },
        ],
        { rounds: 401, warmup: 500 },
      );
      const [alone, piped] = results as [(typeof results)[0], (typeof results)[0]];
      rows.push([
        m.name,
        String(batch),
        formatNs(alone.medianNs),
        formatNs(piped.medianNs),
        formatNs(piped.medianNs - alone.medianNs),
        pairedRatio(piped, alone).toFixed(3),
      ]);
    }
    await model.dispose();
  }
  const note =
    made.status === 0
      ? ''
      : `\n(no MLP: ${PYTHON} could not run make_mlp.py; apt-get install -y python3-onnx)`;
  return (
    table(['model', 'batch', 'model on tensors', 'records → answers', 'pipeline adds', 'ratio'], rows) + note
  );
}
