/**
 * The input screen's cost on the serving path: Open Inference Protocol requests (one row)
 * through the HTTP handler to a Deployer with a screen (data-quality checks on every feature
 * and a Mahalanobis outlier score, both on every request) against the same Deployer without,
 * interleaved in one process, on fraud.onnx (12 features) and an MLP of 20 inputs
 * (make_mlp.py, 20-1024-1024-2); and the per-record cost of each check and of an isolation
 * forest's score on 20 features.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { averagePathLength, IsolationForest, MahalanobisDetector } from '@modelship/core/anomaly';
import {
  createInferenceHandler,
  DataQualityChecker,
  Deployer,
  InputScreen,
  loadModel,
  Profile,
  type Row,
} from '@modelship/node';
import { formatNs, interleave, pairedRatio, table } from './lib/interleave';

const PYTHON = process.env.ONNX_PYTHON ?? '/usr/bin/python3';
const FRAUD = fileURLToPath(new URL('../fixtures/models/fraud.onnx', import.meta.url));

function gaussianRows(n: number, d: number, seed: number): Row[] {
  let s = seed;
  const u = () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return (s + 0.5) / 2 ** 32;
  };
  const g = () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return Array.from({ length: n }, () => {
    const r: Row = {};
    for (let j = 0; j < d; j++) r[`x${j}`] = g();
    return r;
  });
}

export async function screenOverhead(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'modelship-bench-'));
  const mlp = join(dir, 'mlp-20.onnx');
  const made = spawnSync(
    PYTHON,
    [fileURLToPath(new URL('./make_mlp.py', import.meta.url)), mlp, '20,1024,1024,2'],
    {
      encoding: 'utf8',
    },
  );
  const models = [
    { name: 'fraud.onnx (12 features)', path: FRAUD, d: 12 },
    ...(made.status === 0 ? [{ name: 'mlp 20-1024-1024-2 (20 features)', path: mlp, d: 20 }] : []),
  ];
  const rows: string[][] = [];
  for (const m of models) {
    const reference = gaussianRows(2000, m.d, 7);
    const features = Array.from({ length: m.d }, (_, j) => `x${j}`);
    const screen = new InputScreen({
      quality: new DataQualityChecker(Profile.fromDataset(reference)),
      outliers: { detector: MahalanobisDetector.fit(reference, { features }) },
      features,
    });
    const plain = new Deployer();
    const screened = new Deployer();
    for (const d of [plain, screened])
      await d.deploy('m', () => loadModel(m.path, { intraOpNumThreads: 1, interOpNumThreads: 1 }), {
        version: '1',
      });
    screened.screen('m', screen);
    const input = (await loadModel(m.path)).signature.inputs[0]!.name;
    const body = new TextEncoder().encode(
      JSON.stringify({
        inputs: [
          { name: input, shape: [1, m.d], datatype: 'FP32', data: features.map((f) => reference[5]![f]) },
        ],
      }),
    );
    const request = { method: 'POST', path: '/v2/models/m/infer', headers: {}, body };
    const a = createInferenceHandler(plain, { metrics: false });
    const b = createInferenceHandler(screened, { metrics: false });
    const [without, withScreen] = (await interleave(
      [
        { name: 'without', run: () => a.handle(request) },
        { name: 'with screen', run: () => b.handle(request) },
      ],
      { rounds: 501 },
    )) as [Awaited<ReturnType<typeof interleave>>[0], Awaited<ReturnType<typeof interleave>>[0]];
    rows.push([
      m.name,
      formatNs(without.medianNs),
      formatNs(withScreen.medianNs),
      pairedRatio(withScreen, without).toFixed(3),
    ]);
    await Promise.all([plain.close(), screened.close()]);
  }
  rmSync(dir, { recursive: true, force: true });

  return `${table(['OIP request through the handler', 'without', 'with screen', 'ratio'], rows)}\n\n${checksPerRecord()}`;
}

/**
 * Per record, 20 features: each check alone, many records in a loop; the forest against its
 * floor. CPU time of this process (here, in C and in Python), not wall time: on a shared
 * machine the wall clock also counts the time other processes had the core.
 */
export function checksPerRecord(): string {
  const reference = gaussianRows(2000, 20, 11);
  const features = Array.from({ length: 20 }, (_, j) => `x${j}`);
  const probe = gaussianRows(10_000, 20, 12);
  const vectors = probe.map((r) => features.map((f) => r[f] as number));
  const quality = new DataQualityChecker(Profile.fromDataset(reference));
  const mahalanobis = MahalanobisDetector.fit(reference, { features });
  const forest = IsolationForest.fit(reference, { features, seed: 1 });
  const matrix = Float64Array.from(vectors.flat());
  const scores = new Float64Array(vectors.length);
  let sink = 0; // the scores are summed so that no call can be dropped as dead code
  const perRecord = (fn: () => void, n: number) => {
    // warm up: three runs, so that V8 has compiled the hot code with its optimising tier (for
    // WebAssembly too, which starts in a baseline tier and is recompiled in the background)
    for (let w = 0; w < 3; w++) fn();
    const times: number[] = [];
    for (let r = 0; r < 7; r++) {
      const t = process.cpuUsage();
      fn();
      const { user, system } = process.cpuUsage(t);
      times.push(((user + system) * 1000) / n);
    }
    return times.sort((x, y) => x - y)[3]!;
  };
  // The walk scoring used before the complete-tree layout, on the same forest: the baseline.
  const nodes = forest.toJSON();
  const [roots, feature, right] = [nodes.roots, nodes.feature, nodes.right].map((a) =>
    Int32Array.from(a),
  ) as [Int32Array, Int32Array, Int32Array];
  const value = Float64Array.from(nodes.value);
  const x = new Float64Array(20);
  const c = averagePathLength(forest.samples);
  const previous = () => {
    for (const v of vectors) {
      for (let j = 0; j < 20; j++) x[j] = v[j]!;
      let total = 0;
      for (let t = 0; t < roots.length; t++) {
        let node = roots[t]!;
        let f = feature[node]!;
        while (f >= 0) {
          node = x[f]! <= value[node]! ? node + 1 : right[node]!;
          f = feature[node]!;
        }
        total += value[node]!;
      }
      sink += 2 ** (-(total / roots.length) / c);
    }
  };
  // The same forest with the JavaScript kernels, as where WebAssembly is missing or refused.
  const js = withoutWebAssembly(() => IsolationForest.fromJSON(forest.toJSON()));
  const oneByOne = (f: IsolationForest) => () => {
    for (const v of vectors) sink += f.score(v);
  };
  const batch = (f: IsolationForest) => () => {
    f.scoreRows(matrix, vectors.length, scores);
    sink += scores[0]!;
  };
  const each = [
    ['data-quality checks (record of 20 fields)', perRecord(() => quality.check(probe), probe.length)],
    [
      'Mahalanobis score (20 numbers)',
      perRecord(() => {
        for (const v of vectors) sink += mahalanobis.score(v);
      }, vectors.length),
    ],
  ].map(([name, ns]) => [name as string, formatNs(ns as number)]);
  if (!Number.isFinite(sink)) throw new Error('a score was not finite');
  const floor = forestFloor(forest, reference, features, vectors, [
    ['node by node, one record at a time (before)', () => perRecord(previous, vectors.length)],
    ['score(), one record at a time (WebAssembly)', () => perRecord(oneByOne(forest), vectors.length)],
    ['scoreRows(), 10,000 rows at once (WebAssembly)', () => perRecord(batch(forest), vectors.length)],
    ['score(), one record at a time (JavaScript kernels)', () => perRecord(oneByOne(js), vectors.length)],
    ['scoreRows(), 10,000 rows at once (JavaScript kernels)', () => perRecord(batch(js), vectors.length)],
  ]);
  return `${table(['per record', 'median time'], each)}\n\n${floor}`;
}

/** What `make` returns when built with no `WebAssembly` global, as in a runtime without it. */
function withoutWebAssembly<T>(make: () => T): T {
  const g = globalThis as { WebAssembly?: unknown };
  const saved = g.WebAssembly;
  g.WebAssembly = undefined;
  try {
    return make();
  } finally {
    g.WebAssembly = saved;
  }
}

const C_SOURCE = fileURLToPath(new URL('./forest_walk.c', import.meta.url));
const SKLEARN = fileURLToPath(new URL('./forest_sklearn.py', import.meta.url));
const GCC = process.env.CC ?? '/usr/bin/gcc';

/**
 * Isolation forest scoring (100 trees, 20 features) against the machine's floor, in one run:
 * the node-by-node walk used before, ours one at a time and in a batch, the SAME forest walked
 * in C (gcc -O2: node by node, and our complete-tree batch layout), and scikit-learn's
 * `score_samples` (its own forest, fitted with the same settings on the same rows). C and ours
 * alternate over 3 rounds (medians); the C program checks its path lengths equal ours bit for bit.
 */
function forestFloor(
  forest: IsolationForest,
  reference: Row[],
  features: string[],
  vectors: number[][],
  ours: [string, () => number][],
): string {
  const dir = mkdtempSync(join(tmpdir(), 'modelship-forest-'));
  try {
    const json = forest.toJSON();
    const write = (name: string, a: Int32Array | Float64Array) => writeFileSync(join(dir, name), a);
    write('roots.i32', Int32Array.from(json.roots));
    write('feature.i32', Int32Array.from(json.feature));
    write('value.f64', Float64Array.from(json.value));
    write('right.i32', Int32Array.from(json.right));
    write('x.f64', Float64Array.from(vectors.flat()));
    write(
      'expected.f64',
      Float64Array.from(vectors, (v) => forest.pathLength(Float64Array.from(v))),
    );
    write('reference.f64', Float64Array.from(reference.flatMap((r) => features.map((f) => r[f] as number))));
    writeFileSync(
      join(dir, 'meta.txt'),
      `${json.feature.length} ${json.roots.length} ${vectors.length} ${features.length}\n`,
    );
    const exe = join(dir, 'forest_walk');
    const hasGcc = existsSync(GCC);
    const compiled = hasGcc
      ? spawnSync(GCC, ['-O2', '-o', exe, C_SOURCE, '-lm'], { encoding: 'utf8' })
      : undefined;
    if (compiled !== undefined && compiled.status !== 0) throw new Error(`gcc failed: ${compiled.stderr}`);
    const times = new Map<string, number[]>();
    const add = (name: string, ns: number) => times.set(name, [...(times.get(name) ?? []), ns]);
    let mismatches = 0;
    for (let round = 0; round < 3; round++) {
      for (const [name, run] of ours) add(name, run());
      if (compiled === undefined) continue;
      const c = spawnSync(exe, [dir], { encoding: 'utf8' });
      if (c.status !== 0) throw new Error(`forest_walk failed: ${c.stderr}`);
      const [walk, batch, bad] = c.stdout.trim().split(' ').map(Number) as [number, number, number];
      add('C, node by node per record', walk);
      add('C, complete trees, 8 rows at once', batch);
      mismatches += bad;
    }
    if (mismatches > 0) throw new Error(`C's path lengths differ from ours on ${mismatches} rows`);
    const py = spawnSync(PYTHON, [SKLEARN, dir], { encoding: 'utf8' });
    let sklearn: { batch_ns: number; single_ns: number; version: string } | undefined;
    if (py.status === 0) {
      sklearn = JSON.parse(py.stdout) as { batch_ns: number; single_ns: number; version: string };
      add(`scikit-learn ${sklearn.version} score_samples, 10,000 rows`, sklearn.batch_ns);
      add(`scikit-learn ${sklearn.version} score_samples, one row per call`, sklearn.single_ns);
    }
    const med = (name: string) => {
      const t = [...times.get(name)!].sort((a, b) => a - b);
      return t[Math.floor(t.length / 2)]!;
    };
    const rowsOut = [...times.keys()].map((name) => [name, formatNs(med(name))]);
    const [before, one, batch, oneJs, batchJs] = ours.map(([name]) => med(name)) as [
      number,
      number,
      number,
      number,
      number,
    ];
    const ratios: string[][] = [
      ['ours (one at a time) / before', (one / before).toFixed(2)],
      ['ours (batch) / before', (batch / before).toFixed(2)],
      ['WebAssembly / JavaScript kernels, one at a time', (one / oneJs).toFixed(2)],
      ['WebAssembly / JavaScript kernels, batch', (batch / batchJs).toFixed(2)],
    ];
    if (compiled !== undefined) {
      ratios.push(['ours (batch) / C node by node', (batch / med('C, node by node per record')).toFixed(2)]);
      ratios.push([
        'ours (batch) / C complete trees (same algorithm)',
        (batch / med('C, complete trees, 8 rows at once')).toFixed(2),
      ]);
      ratios.push([
        'ours (batch, JavaScript kernels) / C complete trees',
        (batchJs / med('C, complete trees, 8 rows at once')).toFixed(2),
      ]);
      ratios.push([
        'ours (one at a time) / C node by node',
        (one / med('C, node by node per record')).toFixed(2),
      ]);
    }
    if (sklearn !== undefined) {
      ratios.push(['ours (batch) / scikit-learn (batch)', (batch / sklearn.batch_ns).toFixed(3)]);
      ratios.push([
        'ours (one at a time) / scikit-learn (one row per call)',
        (one / sklearn.single_ns).toFixed(4),
      ]);
    }
    const notes = [
      ...(compiled === undefined
        ? [`C reference skipped: no compiler at ${GCC} (set CC to use another)`]
        : []),
      ...(sklearn === undefined
        ? [`scikit-learn reference skipped: ${PYTHON} failed: ${py.stderr.trim().split('\n').pop()}`]
        : []),
    ];
    return [
      table(['isolation forest, 100 trees, 20 features, per record', 'median time'], rowsOut),
      table(['ratio (same run)', 'value'], ratios),
      ...notes,
    ].join('\n\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
