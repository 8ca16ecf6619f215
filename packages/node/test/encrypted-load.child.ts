/**
 * Run by encrypted-models.test.ts under strace: loads the encrypted model at argv[2] with the
 * key in H7_TEST_KEY_HEX, predicts once on zeros, prints `predicted`.
 */
import { warmupInputs } from '@modelship/core';
import { loadModel } from '../src/index';

const model = await loadModel(process.argv[2]!, {
  decryption: { key: Uint8Array.from(Buffer.from(process.env.H7_TEST_KEY_HEX!, 'hex')) },
});
await model.predict(warmupInputs(model.signature, 1));
await model.dispose();
console.log('predicted');
