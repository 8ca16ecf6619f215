// The page as a user writes it: @modelship/browser from node_modules, on the main thread and
// in its worker. The driver (browser.mjs) calls window.packed.predict and checks the numbers.
import { asDType, loadModel } from '@modelship/browser';

async function predict(pixels: number[][], worker: boolean) {
  const model = await loadModel('/digits.onnx', { worker });
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
