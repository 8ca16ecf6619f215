/**
 * Image decoding in the page for pipelines' image fields: the browser's own decoders
 * (`createImageBitmap`) read PNG, JPEG, WebP, GIF and whatever else the browser reads, and a
 * canvas hands back the pixels.
 */
import { InputError, isPixels, type Pixels } from '@modelship/core';

function toBytes(b64: string): Uint8Array<ArrayBuffer> {
  const text = atob(b64.replace(/^data:[^,]*;base64,/, ''));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

/** A copy of a view's bytes in a plain ArrayBuffer (a Blob cannot take a SharedArrayBuffer view). */
function own(view: ArrayBuffer | ArrayBufferView): ArrayBuffer {
  if (view instanceof ArrayBuffer) return view;
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice().buffer;
}

/**
 * Decodes an image to RGBA pixels: a `Blob` or `File`, encoded bytes (`ArrayBuffer`,
 * `Uint8Array`), a base64 string or data URL, or anything `createImageBitmap` takes (an
 * `ImageBitmap`, `<img>`, `<canvas>`, `OffscreenCanvas`, `VideoFrame`). Pixels pass through.
 * Use it as a wrapped pipeline's hook: `pipeline.wrap(model, { decodeImage })`.
 */
export async function decodeImage(value: unknown): Promise<Pixels> {
  if (isPixels(value)) return value;
  let source: ImageBitmapSource;
  if (typeof value === 'string') source = new Blob([toBytes(value)]);
  else if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) source = new Blob([own(value)]);
  else if (typeof value === 'object' && value !== null) source = value as ImageBitmapSource;
  else throw new InputError('INPUT_INVALID', `decodeImage: cannot decode ${typeof value} as an image`);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(source, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch (e) {
    throw new InputError(
      'INPUT_INVALID',
      `decodeImage: the browser could not decode the image (${(e as Error).message})`,
      {
        cause: e,
      },
    );
  }
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (context === null)
    throw new InputError('INPUT_INVALID', 'decodeImage: no 2d canvas context in this page');
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  const data = context.getImageData(0, 0, width, height).data;
  return { width, height, channels: 4, data };
}
