import { loadModel } from '@modelship/browser';

// The tests call this from the page: load digits.onnx (on the page or in a worker), predict
// the given 8x8 images, report how the model was loaded, and dispose of it.
window.runDigits = async (pixels, worker) => {
  const model = await loadModel('/models/digits.onnx', { worker });
  const out = await model.predict({ pixels });
  const probabilities = Array.from(out.probabilities.data);
  const diagnostics = model.diagnostics;
  await model.dispose();
  return { probabilities, diagnostics };
};
document.body.dataset.ready = 'yes';
