/**
 * A rank-4 image model ([batch, 1, 8, 8]) evaluated, tested and monitored from a CSV of 8×8
 * digits whose 64 pixel columns fill its input: evaluate, the Vitest matchers and drift
 * (`modelship eval` on it is in evaluate.test.ts).
 */
import { Deployer, type Model, Monitor, Profile, type Row, tensor } from '@modelship/core';
import { addNoise, shift } from '@modelship/core/testing';
import '@modelship/core/testing/setup';
import { evaluate, loadModel, readCsv } from '@modelship/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { watchProfile } from '../src/repository/profiles';
import { expected, fixturesDir, modelPath } from './fixtures';

const csv = `${fixturesDir}data/digits-test.csv`;
let cnn: Model;
let rows: Row[];

beforeAll(async () => {
  cnn = await loadModel(modelPath('digits_cnn'));
  rows = [];
  for await (const r of readCsv(csv)) rows.push(r);
});
afterAll(() => cnn.dispose());

/** The 64 pixels of a CSV row, p0..p63. */
const pixels = (r: Row): number[] => Array.from({ length: 64 }, (_, i) => r[`p${i}`] as number);

describe('digits_cnn.onnx from digits-test.csv', () => {
  it('the signature is the [batch, 1, 8, 8] image the graph declares', () => {
    expect(cnn.signature.inputs).toEqual(expected.digits_cnn!.signature.inputs);
    expect(cnn.signature.inputs[0]!.shape).toEqual(['batch', 1, 8, 8]);
  });

  it("evaluate fills the image from the 64 pixel columns: accuracy is numpy's", async () => {
    const report = await evaluate(cnn, readCsv(csv), { bootstrap: false });
    expect(report.samples).toBe(450);
    expect(report.metrics.accuracy!.value).toBeCloseTo(expected.digits_cnn!.test_accuracy!, 12);
    // Rows carrying the image under the input's name, flat or as [1][8][8], answer the same.
    const flat = await evaluate(
      cnn,
      rows.map((r) => ({ image: pixels(r), label: r.label })),
      { bootstrap: false },
    );
    const nested = await evaluate(
      cnn,
      rows.map((r) => {
        const p = pixels(r);
        return { image: [Array.from({ length: 8 }, (_, y) => p.slice(8 * y, 8 * y + 8))], label: r.label };
      }),
      { bootstrap: false },
    );
    expect(flat.metrics).toEqual(report.metrics);
    expect(nested.metrics).toEqual(report.metrics);
  });

  it('toMeetMetrics and toBeInvariantTo run on the CSV rows', async () => {
    await expect(cnn).toMeetMetrics(rows, { accuracy: { min: 0.97 }, f1: { min: 0.97 } });
    // Noise of 1% of each pixel's spread moves few answers; a +16 pixel-0..63 shift moves many.
    await expect(cnn).toBeInvariantTo(addNoise(0.01, { seed: 3 }), rows, { maxFlipRate: 0.01 });
    const shiftAll = (rs: readonly Row[]) =>
      Array.from({ length: 64 }, (_, i) => shift(`p${i}`, 8)).reduce((acc, t) => t(acc), rs as Row[]);
    await expect(cnn).not.toBeInvariantTo(shiftAll, rows, { maxFlipRate: 0.1 });
    // Rows carrying the image under the input's name: the transforms reach every pixel.
    const images = rows.map((r) => ({ image: pixels(r), label: r.label }));
    await expect(cnn).toMeetMetrics(images, { accuracy: { min: 0.97 } });
    await expect(cnn).toBeInvariantTo(addNoise(0.01, { seed: 3 }), images, { maxFlipRate: 0.01 });
    await expect(cnn).not.toBeInvariantTo(shift('image', 8), images, { maxFlipRate: 0.1 });
  });

  it('a Monitor measures drift of the served images against the CSV profile', async () => {
    const profile = Profile.fromDataset(rows, { exclude: ['label'] });
    expect(profile.features).toHaveLength(64);
    const deployer = new Deployer();
    const monitor = new Monitor();
    monitor.attach(deployer);
    monitor.watchDrift('digits', profile);
    try {
      await deployer.deploy('digits', () => loadModel(modelPath('digits_cnn')), { version: '1' });
      // The held-out rows as a tensor, then the same rows brightened, as nested arrays.
      const images = rows.slice(0, 200);
      await deployer.predict('digits', {
        image: tensor('float32', images.flatMap(pixels), [images.length, 1, 8, 8]),
      });
      let report = monitor.drift('digits');
      expect(report.currentRows).toBe(200);
      expect(report.features.map((f) => f.feature)).toEqual(profile.features.map((f) => f.name));
      expect(report.features.every((f) => f.count === 200)).toBe(true);
      expect(report.datasetDrift).toBe(false);
      monitor.watchDrift('digits', profile);
      const bright = images.map((r) => {
        const p = pixels(r).map((v) => Math.min(16, v + 6));
        return [Array.from({ length: 8 }, (_, y) => p.slice(8 * y, 8 * y + 8))];
      });
      await deployer.predict('digits', { image: bright });
      report = monitor.drift('digits');
      expect(report.currentRows).toBe(200);
      expect(report.datasetDrift).toBe(true);
    } finally {
      await deployer.close();
    }
  });

  it("modelship serve's profile.json watch takes the image model with a profile of its 64 pixels", () => {
    const profile = Profile.fromDataset(rows, { exclude: ['label'] });
    const monitor = new Monitor();
    watchProfile(monitor, 'digits', profile, cnn.signature, undefined);
    monitor.observeInputs('digits', {
      image: tensor('float32', rows.slice(0, 50).flatMap(pixels), [50, 1, 8, 8]),
    });
    const report = monitor.drift('digits');
    expect(report.currentRows).toBe(50);
    expect(report.features).toHaveLength(64);
    expect(report.features[10]!.feature).toBe('p10');
    const tooFew = Profile.fromDataset(
      rows.map((r) => ({ p0: r.p0, p1: r.p1 })),
      {},
    );
    expect(() => watchProfile(new Monitor(), 'digits', tooFew, cnn.signature, undefined)).toThrow(
      "profile.json profiles 2 features but input 'image' [batch, 1, 8, 8] has 64 values per row",
    );
  });
});
