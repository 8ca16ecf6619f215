import { describe, expect, it } from 'vitest';
import { tensor } from '../tensor/tensor';
import { classScoreRows } from './class-scores';

describe('classScoreRows', () => {
  it('names each column by its label, or its index', () => {
    const t = tensor('float32', [0.25, 0.75, 1, 0], [2, 2]);
    expect(classScoreRows(t, ['no', 'yes'])).toEqual([
      { no: 0.25, yes: 0.75 },
      { no: 1, yes: 0 },
    ]);
    expect(classScoreRows(t)).toEqual([
      { 0: 0.25, 1: 0.75 },
      { 0: 1, 1: 0 },
    ]);
  });

  it('refuses what is not [batch, classes] scores, or labels that do not fit', () => {
    expect(() => classScoreRows(tensor('float32', [1, 2]))).toThrow(
      'classScoreRows: scores must be a numeric tensor [batch, classes]',
    );
    expect(() => classScoreRows(tensor('float32', [1, 2], [1, 2]), [0, 1, 2])).toThrow(
      'classScoreRows: labels must list 2 classes, one per column',
    );
  });
});
