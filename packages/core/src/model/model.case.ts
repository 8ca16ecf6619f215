/**
 * The behaviour every {@link Model} must have, as one suite that each implementation runs:
 * function models here in core, ONNX models in node (and in the browser). A new backend
 * passes this suite before anything else builds on it.
 */
import { describe, expect, it } from 'vitest';
import { ModelshipError } from '../errors';
import type { NamedTensors } from '../tensor/tensor';
import { checkTensor } from '../tensor/tensor';
import type { Model } from './model';

export interface ContractSubject {
  /** A fresh model; the suite disposes it. */
  model: Model;
  /** Valid inputs for it. */
  inputs: NamedTensors;
  /** Another valid input set whose outputs differ from `inputs`'. */
  otherInputs: NamedTensors;
}

async function codeOf(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (e) {
    return ModelshipError.isInstance(e) ? e.code : `not a ModelshipError: ${String(e)}`;
  }
  return 'no error';
}

export function modelContract(label: string, make: () => Promise<ContractSubject>): void {
  describe(`Model contract: ${label}`, () => {
    it('declares a name, a version and a signature', async () => {
      const { model } = await make();
      expect(typeof model.name).toBe('string');
      expect(typeof model.version).toBe('string');
      expect(model.signature.inputs.length).toBeGreaterThan(0);
      expect(model.signature.outputs.length).toBeGreaterThan(0);
      await model.dispose();
    });

    it('returns every declared output as a valid tensor of the declared dtype and rank', async () => {
      const { model, inputs } = await make();
      const out = await model.predict(inputs);
      expect(Object.keys(out).sort()).toEqual(model.signature.outputs.map((s) => s.name).sort());
      for (const spec of model.signature.outputs) {
        const t = checkTensor(out[spec.name], spec.name);
        expect(t.dtype).toBe(spec.dtype);
        if (spec.shape !== null) expect(t.shape.length).toBe(spec.shape.length);
      }
      await model.dispose();
    });

    it('returns only the outputs asked for', async () => {
      const { model, inputs } = await make();
      const first = model.signature.outputs[0]!.name;
      const out = await model.predict(inputs, { outputs: [first] });
      expect(Object.keys(out)).toEqual([first]);
      expect(await codeOf(model.predict(inputs, { outputs: ['no-such-output'] }))).toBe('OUTPUT_UNKNOWN');
      await model.dispose();
    });

    it('refuses a missing input and an unknown one with typed errors', async () => {
      const { model, inputs } = await make();
      const [firstName] = Object.keys(inputs);
      const { [firstName!]: _dropped, ...missing } = inputs;
      expect(await codeOf(model.predict(missing))).toBe('INPUT_MISSING');
      expect(await codeOf(model.predict({ ...inputs, 'no-such-input': inputs[firstName!]! }))).toBe(
        'INPUT_UNKNOWN',
      );
      await model.dispose();
    });

    it('answers concurrent calls each with its own result', async () => {
      const { model, inputs, otherInputs } = await make();
      const [a, b] = await Promise.all([model.predict(inputs), model.predict(otherInputs)]);
      const [a2, b2] = await Promise.all([model.predict(inputs), model.predict(otherInputs)]);
      const name = model.signature.outputs[0]!.name;
      expect(Array.from(a![name]!.data as ArrayLike<unknown>)).toEqual(
        Array.from(a2![name]!.data as ArrayLike<unknown>),
      );
      expect(Array.from(b![name]!.data as ArrayLike<unknown>)).toEqual(
        Array.from(b2![name]!.data as ArrayLike<unknown>),
      );
      expect(Array.from(a![name]!.data as ArrayLike<unknown>)).not.toEqual(
        Array.from(b![name]!.data as ArrayLike<unknown>),
      );
      await model.dispose();
    });

    it('rejects at once when the signal is already aborted', async () => {
      const { model, inputs } = await make();
      const controller = new AbortController();
      controller.abort(new Error('user left'));
      expect(await codeOf(model.predict(inputs, { signal: controller.signal }))).toBe('ABORTED');
      await model.dispose();
    });

    it('rejects a call aborted while it runs, and still answers the next one', async () => {
      const { model, inputs } = await make();
      const controller = new AbortController();
      const pending = model.predict(inputs, { signal: controller.signal });
      controller.abort();
      expect(await codeOf(pending)).toBe('ABORTED');
      const out = await model.predict(inputs);
      expect(Object.keys(out).length).toBeGreaterThan(0);
      await model.dispose();
    });

    it('finishes calls in flight before dispose completes, then refuses new ones', async () => {
      const { model, inputs } = await make();
      const calls = [model.predict(inputs), model.predict(inputs), model.predict(inputs)];
      const disposed = model.dispose();
      const results = await Promise.all(calls);
      for (const r of results) expect(Object.keys(r).length).toBeGreaterThan(0);
      await disposed;
      expect(await codeOf(model.predict(inputs))).toBe('MODEL_DISPOSED');
      await model.dispose(); // idempotent
    });
  });
}
