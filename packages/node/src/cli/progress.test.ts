import { describe, expect, it } from 'vitest';
import { progressLine } from './progress';

describe('the eval progress line', () => {
  it('shows rows while scoring and resamples while bootstrapping, each with its ETA', () => {
    const lines: string[] = [];
    let t = 0;
    const bar = progressLine(
      (s) => lines.push(s),
      () => t,
    );
    t = 1000;
    bar.bytes(250, 1000); // a quarter of the file in 1 s: 3 s to go
    bar.step({ phase: 'predict', done: 256, total: undefined }); // within 100 ms: not redrawn
    t = 2000;
    bar.bytes(500, 1000);
    bar.step({ phase: 'bootstrap', done: 0, total: 1000 }); // the bootstrap's clock starts now
    t = 4000;
    bar.step({ phase: 'bootstrap', done: 100, total: 1000 }); // 100 in 2 s: 18 s to go
    t = 64_000;
    bar.step({ phase: 'bootstrap', done: 1000, total: 1000 });
    bar.done();
    const shown = lines.map((l) => l.replaceAll('\r', '').replaceAll('\x1b[2K', '').replaceAll('\x1b[K', ''));
    expect(shown).toEqual([
      'scoring       [#######.....................]  25%  0 rows  ETA 3s',
      'scoring       [##############..............]  50%  256 rows  ETA 2s',
      'bootstrapping [............................]   0%  0/1,000 resamples  ETA --',
      'bootstrapping [###.........................]  10%  100/1,000 resamples  ETA 18s',
      'bootstrapping [############################] 100%  1,000/1,000 resamples  done in 1m02s',
      '',
    ]);
  });

  it("shows eval's phases with rows/s, metrics/s or resamples/s and an ETA each, each phase on its own clock", () => {
    const lines: string[] = [];
    let t = 0;
    const bar = progressLine(
      (s) => lines.push(s),
      () => t,
      'scoring',
      true,
    );
    t = 1000;
    bar.bytes(250, 1000);
    bar.step({ phase: 'predict', done: 500_000, total: undefined });
    t = 2000;
    bar.bytes(1000, 1000);
    bar.step({ phase: 'predict', done: 2_000_000, total: undefined }); // within 100 ms: not redrawn
    bar.step({ phase: 'metrics', done: 1, total: 10 }); // the metrics' clock starts now
    t = 3000;
    bar.step({ phase: 'metrics', done: 5, total: 10 });
    t = 4000;
    bar.step({ phase: 'metrics', done: 10, total: 10 });
    const shown = lines.map((l) => l.replaceAll('\r', '').replaceAll('\x1b[K', ''));
    expect(shown).toEqual([
      'scoring       [#######.....................]  25%  0 rows  0 rows/s  ETA 3s',
      'scoring       [############################] 100%  500,000 rows  250k rows/s  done in 2s',
      'metrics       [###.........................]  10%  1/10 metrics  ETA --',
      'metrics       [##############..............]  50%  5/10 metrics  5 metrics/s  ETA 1s',
      'metrics       [############################] 100%  10/10 metrics  5 metrics/s  done in 2s',
    ]);
  });

  it("shows explain's phases, each in rows of its own total with its own clock", () => {
    const lines: string[] = [];
    let t = 0;
    const bar = progressLine(
      (s) => lines.push(s),
      () => t,
      'reading',
    );
    t = 500;
    bar.bytes(1000, 1000);
    bar.count('importance', 'rows', 0, 4000); // a new phase: drawn at once, clock restarted
    t = 1500;
    bar.count('importance', 'rows', 1000, 4000); // 1000 in 1 s: 3 s to go
    bar.count('importance', 'rows', 2000, 4000); // within 100 ms: not drawn
    t = 5000;
    bar.count('importance', 'rows', 4000, 4000);
    bar.count('shapley', 'rows', 0, 10);
    bar.done();
    const shown = lines.map((l) => l.replaceAll('\r', '').replaceAll('\x1b[2K', '').replaceAll('\x1b[K', ''));
    expect(shown).toEqual([
      'reading       [############################] 100%  0 rows  done in 1s',
      'importance    [............................]   0%  0/4,000 rows  ETA --',
      'importance    [#######.....................]  25%  1,000/4,000 rows  ETA 3s',
      'importance    [############################] 100%  4,000/4,000 rows  done in 5s',
      'shapley       [............................]   0%  0/10 rows  ETA --',
      '',
    ]);
  });
});
