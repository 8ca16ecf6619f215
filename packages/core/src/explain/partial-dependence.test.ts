import { describe, expect, it } from 'vitest';
import { failure, goldenModel, records } from './models.case';
import { mquantiles, partialDependence, partialDependenceGrid } from './partial-dependence';

async function code(work: Promise<unknown>): Promise<string> {
  const e = await failure(work);
  return `${e.code}: ${e.message}`;
}

describe('partialDependence', () => {
  const model = goldenModel('linear');
  const rows = records(Array.from({ length: 40 }, (_, i) => [i, (i * 7) % 11, 1, -i, 0.5]));

  it('mquantiles matches scipy (alphap = betap = 0.4)', () => {
    // scipy.stats.mstats.mquantiles([1, 2, 3, 4, 10], [0.05, 0.5, 0.95]) = [1.0, 3.0, 10.0]
    const sorted = [1, 2, 3, 4, 10];
    expect(mquantiles(sorted, 0.05)).toBeCloseTo(1, 12);
    expect(mquantiles(sorted, 0.5)).toBeCloseTo(3, 12);
    expect(mquantiles(sorted, 0.95)).toBeCloseTo(10, 12);
    // mquantiles([1, 2, 3, 4, 10, 11.5, 20], 0.3) = 2.56 (between order statistics)
    expect(mquantiles([1, 2, 3, 4, 10, 11.5, 20], 0.3)).toBeCloseTo(2.56, 12);
  });

  it('on a linear model the average is a line of the feature’s weight; ICE curves are parallel', async () => {
    const pd = await partialDependence(model, rows, { feature: 'x3', gridResolution: 5, kind: 'both' });
    expect(pd.grid).toHaveLength(5);
    const slope = (pd.average![4]! - pd.average![0]!) / (pd.grid[4]! - pd.grid[0]!);
    expect(slope).toBeCloseTo(2.0, 12);
    for (const curve of pd.individual!)
      expect(curve[4]! - curve[0]!).toBeCloseTo(pd.average![4]! - pd.average![0]!, 12);
  });

  it("kind 'average' keeps no ICE curves; 'individual' no average", async () => {
    const a = await partialDependence(model, rows, { feature: 'x0', gridResolution: 3 });
    expect(a.individual).toBeUndefined();
    expect(a.average).toHaveLength(3);
    const i = await partialDependence(model, rows, { feature: 'x0', gridResolution: 3, kind: 'individual' });
    expect(i.average).toBeUndefined();
    expect(i.individual).toHaveLength(40);
  });

  it('uses the distinct values when there are fewer than gridResolution', async () => {
    const pd = await partialDependence(model, rows, { feature: 'x1' });
    expect(pd.grid).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('refuses bad input with typed errors', async () => {
    expect(await code(partialDependence(model, rows, { feature: 'nope' }))).toMatch(
      /DATASET_INVALID: partialDependence: unknown feature "nope"/,
    );
    expect(await code(partialDependence(model, rows, { feature: 'x0', gridResolution: 1 }))).toMatch(
      /gridResolution must be an integer greater than 1/,
    );
    expect(await code(partialDependence(model, rows, { feature: 'x0', percentiles: [0.9, 0.1] }))).toMatch(
      /percentiles must be two increasing numbers/,
    );
    expect(
      await code(partialDependence(model, [{ ...rows[0]!, x4: Number.NaN }], { feature: 'x0' })),
    ).toMatch(/row 0, column 'x4' is NaN/);
    const mostlyZero = [...Array(200).fill(0), 1, 2, 3, 4, 5];
    expect(() => partialDependenceGrid(mostlyZero, 3, [0.05, 0.95], 'pd')).toThrow(/too close to each other/);
  });
});
