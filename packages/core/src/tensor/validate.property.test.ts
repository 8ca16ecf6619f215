import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ModelshipError } from '../errors';
import { compiledCheck } from './compiled-check';
import { allocate, DTYPES, type DType } from './dtype';
import type { Dim, ModelSignature } from './spec';
import { validateInputs } from './validate';

// Signatures of 1-3 inputs over a few dims (fixed sizes, shared symbols, unknowns), and inputs
// that mostly fit them with random breakage: the fast compiled check and the descriptive one
// must always agree, and nothing but a ModelshipError may ever escape.
const dim: fc.Arbitrary<Dim> = fc.oneof(
  fc.integer({ min: 0, max: 4 }),
  fc.constantFrom('batch', 'seq'),
  fc.constant(null),
);
const spec = fc.record({
  dtype: fc.constantFrom<DType>(...DTYPES),
  shape: fc.option(fc.array(dim, { maxLength: 3 }), { nil: null, freq: 6 }),
});
const signature = fc
  .array(spec, { minLength: 1, maxLength: 3 })
  .map((specs): ModelSignature => ({ inputs: specs.map((s, i) => ({ name: `in${i}`, ...s })), outputs: [] }));

function fitting(sig: ModelSignature, sizes: Record<string, number>, free: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of sig.inputs) {
    const shape = (s.shape ?? [free]).map((d) =>
      typeof d === 'number' ? d : typeof d === 'string' ? sizes[d]! : free,
    );
    const n = shape.reduce((a, b) => a * b, 1);
    out[s.name] = { dtype: s.dtype, shape, data: allocate(s.dtype, n) };
  }
  return out;
}

const breakage = fc.constantFrom(
  'none',
  'dtype',
  'extra',
  'missing',
  'length',
  'shape',
  'negative',
  'notensor',
  'rank',
);

function breakIt(inputs: Record<string, unknown>, how: string, pick: number): Record<string, unknown> {
  const names = Object.keys(inputs);
  const name = names[pick % names.length]!;
  const t = { ...(inputs[name] as { dtype: DType; shape: number[]; data: ArrayLike<unknown> }) };
  const out = { ...inputs };
  switch (how) {
    case 'dtype':
      out[name] = { ...t, dtype: t.dtype === 'float32' ? 'int8' : 'float32' };
      break;
    case 'extra':
      out.unexpected = t;
      break;
    case 'missing':
      delete out[name];
      break;
    case 'length':
      out[name] = { ...t, data: allocate(t.dtype, t.data.length + 1) };
      break;
    case 'shape':
      out[name] = { ...t, shape: [...t.shape, 1] };
      break;
    case 'negative':
      out[name] = { ...t, shape: t.shape.length ? [-1, ...t.shape.slice(1)] : [-1] };
      break;
    case 'notensor':
      out[name] = [1, 2, 3];
      break;
    case 'rank':
      out[name] = { ...t, shape: [], data: allocate(t.dtype, 1) };
      break;
  }
  return out;
}

describe('validateInputs properties', () => {
  it('the compiled check and the full check agree, and only typed errors escape', () => {
    fc.assert(
      fc.property(
        signature,
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 3 }),
        breakage,
        fc.nat(),
        fc.boolean(),
        (sig, batch, seq, free, how, pick, finite) => {
          const inputs = breakIt(fitting(sig, { batch, seq }, free), how, pick);
          const fast = compiledCheck(sig, inputs, finite, 1e9);
          let full: 'ok' | 'error' = 'ok';
          try {
            validateInputs(sig, inputs, { checkFinite: finite });
          } catch (e) {
            if (!ModelshipError.isInstance(e)) throw e;
            full = 'error';
          }
          // Anything the fast path accepts is valid; anything it refuses, the full check names.
          expect(full).toBe(fast ? 'ok' : 'error');
          if (how === 'none') expect(full).toBe('ok');
        },
      ),
      { numRuns: 3000 },
    );
  });
});
