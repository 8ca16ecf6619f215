/**
 * Fits iris/pipeline.json on the iris data: the server then takes records
 * (`{"sepal_length": 5.1, …}`) for iris and answers species names from iris/labels.txt. Also
 * writes iris/profile.json, the profile of those records, which `modelship serve` watches the
 * drift of the records it receives against, and iris/explain/background.jsonl, the background
 * `POST /v1/models/iris:explain` explains against.
 * Run from the repository root: `pnpm --filter @modelship/node exec tsx --conditions=@modelship/source ../../examples/model-repository/fit-iris-pipeline.ts`
 * (a test checks the committed file equals what this makes).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { argmax, impute, Pipeline, Profile, type Row, readCsv, sampleRows, topK } from '@modelship/node';

async function irisRows(): Promise<Row[]> {
  const rows: Row[] = [];
  for await (const row of readCsv(fileURLToPath(new URL('../../fixtures/data/iris.csv', import.meta.url))))
    rows.push(row);
  return rows;
}

/** The training records' profile (every row is kept: 150 is below the 1,000-value sample). */
export async function profileIris(): Promise<Profile> {
  return Profile.fromDataset(await irisRows(), { exclude: ['label'] });
}

/**
 * iris/explain/background.jsonl: 30 training records drawn without replacement (seed 0), the
 * fields only: what `POST /v1/models/iris:explain` measures contributions against.
 */
export async function irisBackground(): Promise<string> {
  const rows = sampleRows(await irisRows(), 30, { seed: 0 });
  return rows.map(({ label: _label, ...fields }) => `${JSON.stringify(fields)}\n`).join('');
}

export async function fitIrisPipeline(): Promise<Pipeline> {
  const rows = await irisRows();
  // The model was trained on raw measurements; the pipeline only fills a missing one with its mean.
  return Pipeline.fit(rows, {
    features: {
      sepal_length: impute('mean'),
      sepal_width: impute('mean'),
      petal_length: impute('mean'),
      petal_width: impute('mean'),
    },
    input: 'input',
    output: {
      species: argmax(undefined, { from: 'probabilities' }),
      top2: topK(2, undefined, { from: 'probabilities' }),
    },
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const pipeline = await fitIrisPipeline();
  const file = fileURLToPath(new URL('./iris/pipeline.json', import.meta.url));
  await writeFile(file, `${JSON.stringify(pipeline, null, 2)}\n`);
  console.log(`wrote ${file}: ${pipeline.featureNames().join(', ')}`);
  const profileFile = fileURLToPath(new URL('./iris/profile.json', import.meta.url));
  await writeFile(profileFile, `${JSON.stringify(await profileIris(), null, 2)}\n`);
  console.log(`wrote ${profileFile}`);
  const backgroundFile = fileURLToPath(new URL('./iris/explain/background.jsonl', import.meta.url));
  await mkdir(fileURLToPath(new URL('./iris/explain/', import.meta.url)), { recursive: true });
  await writeFile(backgroundFile, await irisBackground());
  console.log(`wrote ${backgroundFile}`);
}
