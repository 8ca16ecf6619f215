/**
 * Image pipelines: the resize against onnxruntime's own Resize, the normalisation and layouts,
 * the PNG decoder against images encoded here (every color type, depth and row filter), and
 * digits served from PNGs sent over REST.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  argmax,
  createServer,
  Deployer,
  decodePng,
  FileSystemRepository,
  imageTensor,
  loadModel,
  Pipeline,
  readCsv,
  resizeBilinear,
  tensor,
} from '@modelship/node';
import { describe, expect, it } from 'vitest';
import { encodePng } from './png';

const fixtures = fileURLToPath(new URL('../../../fixtures/', import.meta.url));

/** A seeded uniform random generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('image preprocessing', () => {
  it("resizes as onnxruntime's Resize (linear, half_pixel), up and down, at odd ratios", async () => {
    const resize = await loadModel(`${fixtures}models/resize_linear.onnx`);
    const next = random(3);
    for (const [h, w, oh, ow, c] of [
      [7, 5, 14, 10, 3],
      [16, 12, 5, 7, 3],
      [9, 9, 4, 13, 1],
      [1, 1, 3, 2, 4],
      [6, 10, 6, 10, 3],
      [11, 3, 2, 1, 3],
    ] as const) {
      const hwc = Float32Array.from({ length: h * w * c }, () => next() * 255);
      const chw = new Float32Array(hwc.length);
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++)
          for (let k = 0; k < c; k++) chw[(k * h + y) * w + x] = hwc[(y * w + x) * c + k]!;
      const ort = await resize.predict({
        x: { dtype: 'float32', shape: [1, c, h, w], data: chw },
        sizes: tensor('int64', [1n, BigInt(c), BigInt(oh), BigInt(ow)]),
      });
      const ours = resizeBilinear({ width: w, height: h, channels: c, data: hwc }, ow, oh);
      const reference = ort.y!.data as Float32Array;
      let worst = 0;
      for (let y = 0; y < oh; y++)
        for (let x = 0; x < ow; x++)
          for (let k = 0; k < c; k++)
            worst = Math.max(
              worst,
              Math.abs(ours.data[(y * ow + x) * c + k]! - reference[(k * oh + y) * ow + x]!),
            );
      expect(worst, `${h}×${w} → ${oh}×${ow}`).toBeLessThanOrEqual(2e-4); // 255-scale values, float32
    }
    await resize.dispose();
  });

  it('normalises per channel, orders channels and lays out NCHW, NHWC and flat', () => {
    // 2×1 RGBA: a red and a blue pixel.
    const image = { width: 2, height: 1, data: Uint8Array.from([255, 0, 0, 255, 0, 0, 255, 128]) };
    const nchw = imageTensor([image], { width: 2, height: 1, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
    expect(nchw.shape).toEqual([1, 3, 1, 2]);
    expect(Array.from(nchw.data)).toEqual([1, -1, -1, -1, -1, 1]);
    const nhwc = imageTensor([image], { width: 2, height: 1, channels: 'bgr', scale: 1, layout: 'NHWC' });
    expect(nhwc.shape).toEqual([1, 1, 2, 3]);
    expect(Array.from(nhwc.data)).toEqual([0, 0, 255, 255, 0, 0]);
    const gray = imageTensor([image], { width: 2, height: 1, channels: 'gray', scale: 1, layout: 'flat' });
    expect(gray.shape).toEqual([1, 2]);
    expect(Array.from(gray.data)).toEqual([Math.fround(0.299 * 255), Math.fround(0.114 * 255)]);
  });

  it("crops the centre for 'cover' and pads for 'contain'", () => {
    // 4×2 gray, columns 10, 20, 30, 40.
    const image = {
      width: 4,
      height: 2,
      channels: 1 as const,
      data: Uint8Array.from([10, 20, 30, 40, 10, 20, 30, 40]),
    };
    const base = { width: 2, height: 2, channels: 'gray' as const, scale: 1, layout: 'NHWC' as const };
    expect(Array.from(imageTensor([image], { ...base, resize: 'cover' }).data)).toEqual([20, 30, 20, 30]);
    // Scaled to 2×1 (columns average pairwise: 15, 35), placed on the top row, the rest padded.
    expect(Array.from(imageTensor([image], { ...base, resize: 'contain', pad: -1 }).data)).toEqual([
      15, 35, -1, -1,
    ]);
  });

  it('refuses images and options it cannot use, naming the record', () => {
    const bad = { width: 2, height: 2, data: new Uint8Array(3) };
    expect(() => imageTensor([bad], { width: 2, height: 2 }, 4)).toThrow(
      'record 4: the image holds 3 values; 2×2×4 needs 16',
    );
    expect(() => imageTensor([new Uint8Array(4)], { width: 2, height: 2 })).toThrow('is not decoded pixels');
    expect(() => imageTensor([], { width: 0, height: 2 })).toThrow(
      'width must be an integer from 1 to 16384',
    );
    expect(() => imageTensor([], { width: 2, height: 2, std: [1, 0, 1] })).toThrow(
      'std must be 3 finite non-zero numbers',
    );
    expect(() => imageTensor([], { width: 2, height: 2, channels: 'gray', mean: [0, 0, 0] })).toThrow(
      'mean must be 1 finite number, one per output channel',
    );
    expect(() => imageTensor([], { width: 2, height: 2, layout: 'CHW' as never })).toThrow(
      "layout must be 'NCHW', 'NHWC' or 'flat'",
    );
  });
});

describe('decodePng', () => {
  const next = random(8);
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(next() * 256));

  it('decodes every color type, 8 and 16 bits, palettes with transparency, all row filters', () => {
    const [w, h] = [7, 6];
    for (const [color, per, channels] of [
      [0, 1, 1],
      [2, 3, 3],
      [6, 4, 4],
    ] as const) {
      const samples = bytes(w * h * per);
      expect(decodePng(encodePng(w, h, color, 8, samples))).toEqual({
        width: w,
        height: h,
        channels,
        data: samples,
      });
      // 16 bits: the decoder keeps the high byte.
      const wide = Uint8Array.from({ length: samples.length * 2 }, (_, i) =>
        i % 2 === 0 ? samples[i >> 1]! : 77,
      );
      expect(decodePng(encodePng(w, h, color, 16, wide)).data).toEqual(samples);
    }
    const ga = bytes(w * h * 2);
    const rgba = Uint8Array.from({ length: w * h * 4 }, (_, i) =>
      i % 4 === 3 ? ga[(i >> 2) * 2 + 1]! : ga[(i >> 2) * 2]!,
    );
    expect(decodePng(encodePng(w, h, 4, 8, ga)).data).toEqual(rgba);
    // Palette of 4 colours, 2 bits per pixel, the first two with alpha.
    const palette = Buffer.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9]);
    const chunk = (type: string, body: Buffer) => {
      const head = Buffer.alloc(8);
      head.writeUInt32BE(body.length, 0);
      head.write(type, 4, 'ascii');
      return Buffer.concat([head, body, Buffer.alloc(4)]);
    };
    const indices = Uint8Array.from({ length: w * h }, () => Math.floor(next() * 4));
    const stride = Math.ceil((w * 2) / 8);
    const packed = new Uint8Array(stride * h);
    indices.forEach((ix, i) => {
      const [y, x] = [Math.floor(i / w), i % w];
      packed[y * stride + (x >> 2)]! |= ix << (6 - 2 * (x & 3));
    });
    const decoded = decodePng(
      encodePng(w, h, 3, 2, packed, [chunk('PLTE', palette), chunk('tRNS', Buffer.from([0, 128]))]),
    );
    expect(decoded.channels).toBe(4);
    const expected = Array.from(indices).flatMap((ix) => [
      ...palette.subarray(ix * 3, ix * 3 + 3),
      [0, 128, 255, 255][ix]!,
    ]);
    expect(Array.from(decoded.data)).toEqual(expected);
  });

  it('reads a PNG Chromium wrote, and refuses what it cannot read', () => {
    const file = readFileSync(fileURLToPath(new URL('../../../docs/images/dashboard.png', import.meta.url)));
    const image = decodePng(file);
    expect([image.width, image.height]).toEqual([file.readUInt32BE(16), file.readUInt32BE(20)]);
    expect(image.data.length).toBe(image.width * image.height * image.channels);
    expect(() => decodePng(Buffer.from('GIF89a'))).toThrow('the PNG signature is missing');
    expect(() => decodePng(file.subarray(0, 100))).toThrow(/cut short|ends before/);
    const interlaced = Buffer.from(encodePng(2, 2, 0, 8, new Uint8Array(4)));
    interlaced[28] = 1; // IHDR interlace byte
    expect(() => decodePng(interlaced)).toThrow('it is interlaced (Adam7)');
    expect(() => decodePng(encodePng(2, 2, 0, 4, new Uint8Array(2)))).toThrow(
      'bit depth 4 with color type 0 is not supported',
    );
  });
});

describe('digits from PNGs over REST', () => {
  it('serves a pipeline with an image field: PNG bytes in, the digit out, as the model on raw pixels', async () => {
    const rows: Record<string, number>[] = [];
    for await (const r of readCsv(`${fixtures}data/digits-test.csv`)) rows.push(r as Record<string, number>);
    const sample = rows.slice(0, 30);
    // 8×8 gray PNGs of the digits (0..16 scaled to 0..255).
    const pngs = sample.map((r) =>
      encodePng(
        8,
        8,
        0,
        8,
        Uint8Array.from({ length: 64 }, (_, i) => Math.round((r[`p${i}`]! * 255) / 16)),
      ),
    );
    const pipeline = Pipeline.fit([], {
      images: {
        image: { width: 8, height: 8, channels: 'gray', scale: 16 / 255, layout: 'flat', input: 'pixels' },
      },
      output: { digit: argmax(undefined, { from: 'probabilities' }) },
    });
    const root = mkdtempSync(join(tmpdir(), 'modelship-images-'));
    mkdirSync(join(root, 'digits/1'), { recursive: true });
    copyFileSync(`${fixtures}models/digits.onnx`, join(root, 'digits/1/model.onnx'));
    writeFileSync(join(root, 'digits/pipeline.json'), JSON.stringify(pipeline));
    const deployer = new Deployer();
    const repository = new FileSystemRepository(root, { settleMs: 0, pollIntervalMs: 60_000 });
    repository.attach(deployer);
    await repository.start();
    const server = createServer(deployer, { pipelines: repository, closeDeployer: true });
    const { url } = await server.listen(0, '127.0.0.1');
    const post = (instances: unknown[]) =>
      fetch(`${url}/v1/models/digits:predict`, { method: 'POST', body: JSON.stringify({ instances }) }).then(
        async (r) => ({
          status: r.status,
          json: (await r.json()) as { predictions?: { digit: number }[]; error?: string },
        }),
      );
    try {
      const { status, json } = await post(pngs.map((png) => ({ image: { b64: png.toString('base64') } })));
      expect(status).toBe(200);
      const served = json.predictions!.map((p) => p.digit);
      // The model itself on the same pixels, decoded and scaled by hand.
      const model = await loadModel(`${fixtures}models/digits.onnx`);
      const pixels = Float32Array.from(
        pngs.flatMap((png) => Array.from(decodePng(png).data, (b) => b * (16 / 255))),
      );
      const out = await model.predict({ pixels: { dtype: 'float32', shape: [30, 64], data: pixels } });
      await model.dispose();
      const p = out.probabilities!.data as Float32Array;
      const expected = sample.map((_, i) => {
        let best = 0;
        for (let j = 1; j < 10; j++) if (p[i * 10 + j]! > p[i * 10 + best]!) best = j;
        return best;
      });
      expect(served).toEqual(expected);
      expect(served.filter((d, i) => d === sample[i]!.label).length).toBeGreaterThanOrEqual(28);
      // A plain base64 string works too; bytes that are not a PNG are a 400 naming the record.
      expect((await post([{ image: pngs[0]!.toString('base64') }])).json.predictions![0]!.digit).toBe(
        expected[0],
      );
      const bad = await post([
        { image: { b64: pngs[0]!.toString('base64') } },
        { image: { b64: 'bm90IGEgcG5n' } },
      ]);
      expect(bad.status).toBe(400);
      expect(bad.json.error).toBe(
        "record 1, field 'image': the image could not be decoded: not a PNG this decoder reads: the PNG signature is missing",
      );
      expect((await post([{}])).json.error).toBe("record 0 has no field 'image'");
      // A misspelt field is named as one the pipeline does not read, rather than imputed or missed.
      expect((await post([{ picture: 1 }])).json.error).toBe(
        `record 0 has a field the pipeline does not read: 'picture' (it reads 'image'); set "allowExtraFields": true in the pipeline to ignore extra fields`,
      );
    } finally {
      await server.close();
      await repository.stop();
    }
  });
});
