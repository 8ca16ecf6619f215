/**
 * A PNG decoder for image pipelines in Node, on `node:zlib`: 8- and 16-bit gray, gray+alpha,
 * RGB, RGBA and palette images, every row filter. Interlaced (Adam7) PNGs and bit depths below
 * 8 (except palette) are refused with a clear error: decode those with a library and pass the
 * pixels. JPEG and other formats need a decoder hook (sharp, say).
 */
import { inflateSync } from 'node:zlib';
import { InputError, type Pixels } from '@modelship/core';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function fail(why: string): never {
  throw new InputError('INPUT_INVALID', `not a PNG this decoder reads: ${why}`);
}

/** Bytes of a PNG (a Buffer, a Uint8Array, or a base64 string) to pixels with 1, 3 or 4 channels. */
export function decodePng(png: Uint8Array | string): Pixels & { channels: 1 | 3 | 4; data: Uint8Array } {
  const bytes = typeof png === 'string' ? Buffer.from(png, 'base64') : png;
  if (!(bytes instanceof Uint8Array)) fail('expected bytes or a base64 string');
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) fail('the PNG signature is missing');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 8;
  let header: { width: number; height: number; depth: number; color: number; interlace: number } | undefined;
  let palette: Uint8Array | undefined;
  let alpha: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  for (;;) {
    if (at + 8 > bytes.length) fail('it ends before its IEND chunk');
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    const body = bytes.subarray(at + 8, at + 8 + length);
    if (body.length !== length || at + 12 + length > bytes.length) fail(`its ${type} chunk is cut short`);
    at += 12 + length; // length, type, data, CRC
    if (type === 'IHDR') {
      if (length !== 13) fail('its IHDR chunk has the wrong length');
      const h = new DataView(body.buffer, body.byteOffset, 13);
      header = {
        width: h.getUint32(0),
        height: h.getUint32(4),
        depth: body[8]!,
        color: body[9]!,
        interlace: body[12]!,
      };
    } else if (type === 'PLTE') palette = body;
    else if (type === 'tRNS') alpha = body;
    else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
  }
  if (header === undefined) fail('it has no IHDR chunk');
  const { width, height, depth, color, interlace } = header;
  if (width < 1 || height < 1 || width * height > 1 << 28)
    fail(`its size ${width}×${height} is out of range`);
  if (interlace !== 0) fail('it is interlaced (Adam7)');
  const samples = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[color];
  if (samples === undefined) fail(`color type ${color} is not a PNG color type`);
  if (color === 3 ? ![1, 2, 4, 8].includes(depth) : depth !== 8 && depth !== 16)
    fail(`bit depth ${depth} with color type ${color} is not supported`);
  if (color === 3 && palette === undefined) fail('it is a palette image without a PLTE chunk');
  let raw: Buffer;
  try {
    raw = inflateSync(Buffer.concat(idat));
  } catch (e) {
    fail(`its image data does not inflate (${(e as Error).message})`);
  }
  const bitsPerPixel = samples * depth;
  const stride = Math.ceil((width * bitsPerPixel) / 8);
  const bpp = Math.max(1, bitsPerPixel >> 3); // bytes to the corresponding byte of the previous pixel
  if (raw.length < height * (stride + 1)) fail('its image data is shorter than its size says');
  // Undo the row filters in place.
  const rows = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = rows.subarray(y * stride, (y + 1) * stride);
    const up = y > 0 ? rows.subarray((y - 1) * stride, y * stride) : undefined;
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? out[i - bpp]! : 0;
      const b = up === undefined ? 0 : up[i]!;
      const c = up !== undefined && i >= bpp ? up[i - bpp]! : 0;
      let v: number;
      switch (filter) {
        case 0:
          v = src[i]!;
          break;
        case 1:
          v = src[i]! + a;
          break;
        case 2:
          v = src[i]! + b;
          break;
        case 3:
          v = src[i]! + ((a + b) >> 1);
          break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          v = src[i]! + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
          break;
        }
        default:
          fail(`row ${y} has filter type ${filter}`);
      }
      out[i] = v & 0xff;
    }
  }
  // To 8-bit samples: 16-bit keeps its high byte; palette indices become RGB(A).
  const channels: 1 | 3 | 4 = color === 0 ? 1 : color === 2 ? 3 : color === 3 ? (alpha ? 4 : 3) : 4;
  const data = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    const row = rows.subarray(y * stride, (y + 1) * stride);
    for (let x = 0; x < width; x++) {
      const to = (y * width + x) * channels;
      if (color === 3) {
        const bit = x * depth;
        const index = (row[bit >> 3]! >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
        if (3 * index + 2 >= palette!.length) fail(`palette index ${index} is outside its palette`);
        data[to] = palette![3 * index]!;
        data[to + 1] = palette![3 * index + 1]!;
        data[to + 2] = palette![3 * index + 2]!;
        if (channels === 4) data[to + 3] = index < alpha!.length ? alpha![index]! : 255;
        continue;
      }
      const step = depth >> 3;
      const sample = (k: number) => row[(x * samples + k) * step]!;
      if (color === 0) data[to] = sample(0);
      else if (color === 2) {
        data[to] = sample(0);
        data[to + 1] = sample(1);
        data[to + 2] = sample(2);
      } else if (color === 4) {
        // Gray + alpha as RGBA.
        data[to] = data[to + 1] = data[to + 2] = sample(0);
        data[to + 3] = sample(1);
      } else for (let k = 0; k < 4; k++) data[to + k] = sample(k);
    }
  }
  return { width, height, channels, data };
}
