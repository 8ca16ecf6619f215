/**
 * Seeded, shuffled SGD fits give the same weights bit for bit as the code they were pinned on
 * (sgd-pinned.json, written by the SGD of commit 72c4032 before its speed work): every loss,
 * penalty and schedule, the tol stop, multi-class, sample weights, each kind of X. A faster epoch
 * loop must not move a single bit.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ModelshipError } from '../errors';
import { seededRandom } from '../evaluate/bootstrap';
import { SGDClassifier } from './sgd-classifier';
import { type PinnedFit, pinnedFits } from './sgd-pinned.case';
import { SGDRegressor } from './sgd-regressor';

const pinned = JSON.parse(readFileSync(new URL('./sgd-pinned.json', import.meta.url), 'utf8')) as Record<
  string,
  PinnedFit
>;

describe('SGD seeded fits, pinned bit for bit', () => {
  const fits = pinnedFits();
  it('covers every pinned fit', () => expect(Object.keys(fits)).toEqual(Object.keys(pinned)));
  // Through JSON like the pinned values (toEqual on numbers is Object.is: exact to the bit).
  for (const [name, run] of Object.entries(fits))
    it(name, () => expect(JSON.parse(JSON.stringify(run()))).toEqual(pinned[name]));
  it('fits the same weights twice in a row and after other losses (no state carried over)', () => {
    const again = pinnedFits();
    for (const name of Object.keys(pinned).reverse())
      expect(JSON.parse(JSON.stringify(again[name]!()))).toEqual(pinned[name]);
  });
});

describe('the finiteness check of X', () => {
  // SGD checks X inside its first epoch (a non-finite value makes its row's dot product
  // non-finite); the hinge fits update nothing on a NaN row, so only that check can name it.
  const fits: [string, (X: { data: Float64Array; shape: [number, number] }) => unknown][] = [
    ['SGDRegressor', (X) => SGDRegressor.fit(X, [1, 2, 3])],
    ['SGDClassifier hinge, unshuffled', (X) => SGDClassifier.fit(X, [0, 1, 0], { shuffle: false })],
    ['SGDClassifier log_loss, 3 classes', (X) => SGDClassifier.fit(X, [0, 1, 2], { loss: 'log_loss' })],
  ];
  for (const [name, run] of fits)
    it(`finds a non-finite value at every position (${name})`, () => {
      const [n, k] = [3, 5];
      for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])
        for (let at = 0; at < n * k; at++) {
          const data = Float64Array.from({ length: n * k }, (_, i) => (i === at ? bad : i / 7));
          let error: unknown;
          try {
            run({ data, shape: [n, k] });
          } catch (e) {
            error = e;
          }
          expect(error).toBeInstanceOf(ModelshipError);
          expect((error as Error).message).toContain(
            `X[${Math.floor(at / k)}][${at % k}] is ${String(bad)}; every value must be a finite number`,
          );
        }
    });
  it('is not fooled by weights that overflow on finite X (the divergence is reported)', () => {
    const data = Float64Array.from({ length: 40 }, (_, i) => (i % 2 ? 1e300 : -1e300));
    expect(() =>
      SGDRegressor.fit(
        { data, shape: [20, 2] },
        Array.from({ length: 20 }, (_, i) => i),
      ),
    ).toThrow(/the fit diverged/);
  });
});

describe('the seeded generator behind the shuffle', () => {
  it('draws what it drew before its state became int32 (draws 1000 to 1003 of two seeds)', () => {
    const pinnedDraws: [number, number[]][] = [
      [0, [0.1671349515672773, 0.7681055867578834, 0.8421123626176268, 0.6420455540064722]],
      [4294967295, [0.5043129974510521, 0.1101135287899524, 0.7344227773137391, 0.45223519345745444]],
    ];
    for (const [seed, draws] of pinnedDraws) {
      const random = seededRandom(seed);
      for (let i = 0; i < 999; i++) random();
      expect(Array.from({ length: 4 }, () => random())).toEqual(draws);
    }
  });
});
