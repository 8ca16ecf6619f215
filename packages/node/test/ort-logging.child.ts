/**
 * Run by signature.test.ts in a child process: loads scalar_input.onnx with the
 * `logSeverityLevel` given as argv[2] (or none), makes onnxruntime fail inside a kernel, and
 * prints the error code Modelship gave, so the parent can look at what reached stderr.
 */
import { ModelshipError } from '@modelship/core';
import { loadModel } from '../src/index';
import { modelPath } from './fixtures';

const level = process.argv[2];
const model = await loadModel(
  modelPath('scalar_input'),
  level === undefined ? {} : { logSeverityLevel: Number(level) as 0 | 1 | 2 | 3 | 4 },
);
try {
  // Two samples cannot be framed in fours: onnxruntime's Reshape fails.
  await model.predict({
    x: { dtype: 'float32', shape: [1, 2], data: new Float32Array(2) },
    sr: { dtype: 'int64', shape: [], data: BigInt64Array.of(16000n) },
  });
  console.log('no error');
} catch (e) {
  console.log(ModelshipError.isInstance(e) ? e.code : `untyped ${String(e)}`);
}
await model.dispose();
