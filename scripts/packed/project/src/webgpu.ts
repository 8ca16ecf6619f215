// The WebGPU entry: it asks for WebGPU and, in a browser without it, says so and runs on wasm.
import { asDType, loadModel } from '@modelship/browser/webgpu';

async function predict(pixels: number[][], worker: boolean) {
  const model = await loadModel('/digits.onnx', { worker, executionProviders: ['webgpu', 'wasm'] });
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
