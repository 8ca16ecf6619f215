// What both pages do: load digits.onnx with the entry's loadModel, on the page or in its
// worker, and hand back the probabilities for the driver (browser.mjs) to check.
import type { BrowserModel, LoadModelOptions } from '@modelship/browser';
import { asDType } from '@modelship/core';

type Load = (url: string, options: LoadModelOptions) => Promise<BrowserModel>;

export function expose(loadModel: Load, options: LoadModelOptions = {}): void {
  async function predict(pixels: number[][], worker: boolean) {
    const model = await loadModel('/digits.onnx', { ...options, worker });
    try {
      const out = await model.predict({ pixels });
      return {
        probabilities: [...asDType(out.probabilities!, 'float32').data],
        provider: model.diagnostics.executionProvider,
        worker: model.diagnostics.worker,
      };
    } finally {
      await model.dispose();
    }
  }
  Object.assign(window, { packed: { predict } });
}
