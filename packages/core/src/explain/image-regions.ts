/** What `explainImage` occludes (sliding patches or segments) and what the hidden pixels become. */
import { describe, invalidArgument } from '../errors';
import type { ImageInput } from './image-input';
import type { ExplainImageOptions, ImageRegion } from './image-types';

/** A region to occlude: a rectangle, or a segment's pixel list within its bounding box. */
export type Region = ImageRegion & { list?: Int32Array };

/** Patch starts along one side: every `stride`, plus a last one flush with the edge. */
function starts(size: number, patch: number, stride: number): number[] {
  const out: number[] = [];
  for (let s = 0; s + patch <= size; s += stride) out.push(s);
  if (out[out.length - 1]! + patch < size) out.push(size - patch);
  return out;
}

function pair(value: unknown, name: string, where: string): [number, number] | undefined {
  if (value === undefined) return undefined;
  const v = typeof value === 'number' ? [value, value] : value;
  if (!Array.isArray(v) || v.length !== 2 || !v.every((d) => Number.isInteger(d) && d >= 1))
    throw invalidArgument(where, `${name} must be a positive integer or [height, width] of them`, value);
  return [v[0], v[1]];
}

export function patches(img: ImageInput, options: ExplainImageOptions, where: string): Region[] {
  const { height: H, width: W } = img;
  const side = Math.max(1, Math.floor(Math.min(H, W) / 8));
  const [ph, pw] = pair(options.patchSize, 'patchSize', where) ?? [side, side];
  if (ph > H || pw > W)
    throw invalidArgument(
      where,
      `patchSize ${ph}×${pw} is larger than the image (${H}×${W}); use a patch of at most ${H}×${W}`,
      options.patchSize,
    );
  const [sh, sw] = pair(options.stride, 'stride', where) ?? [ph, pw];
  const out: Region[] = [];
  for (const top of starts(H, ph, sh))
    for (const left of starts(W, pw, sw))
      out.push({ top, left, height: ph, width: pw, pixels: ph * pw, drop: 0 });
  return out;
}

export function segmentRegions(img: ImageInput, segments: ArrayLike<number>, where: string): Region[] {
  const { height: H, width: W } = img;
  if (typeof segments !== 'object' || segments === null || segments.length !== H * W)
    throw invalidArgument(where, `segments must hold one label per pixel (${H}×${W} = ${H * W})`, segments);
  const members = new Map<number, number[]>();
  for (let p = 0; p < H * W; p++) {
    const label = segments[p]!;
    if (!Number.isSafeInteger(label))
      throw invalidArgument(
        where,
        `segments must be integer labels; pixel ${p} has ${describe(label)}`,
        label,
      );
    const list = members.get(label);
    if (list === undefined) members.set(label, [p]);
    else list.push(p);
  }
  return [...members.keys()]
    .sort((a, b) => a - b)
    .map((segment) => {
      const list = Int32Array.from(members.get(segment)!);
      let [top, left, bottom, right] = [H, W, 0, 0];
      for (const p of list) {
        const y = Math.floor(p / W);
        const x = p - y * W;
        [top, left, bottom, right] = [
          Math.min(top, y),
          Math.min(left, x),
          Math.max(bottom, y),
          Math.max(right, x),
        ];
      }
      return {
        top,
        left,
        height: bottom - top + 1,
        width: right - left + 1,
        segment,
        pixels: list.length,
        drop: 0,
        list,
      };
    });
}

/** Each pixel's occluded value, `baseline[at(c, p)]`, as a whole image in the input's layout. */
export function baselineImage(
  img: ImageInput,
  baseline: ExplainImageOptions['baseline'],
  where: string,
): Float64Array {
  const { channels: C, pixels } = img;
  const HW = img.height * img.width;
  const out = new Float64Array(pixels.length);
  const perChannel = (value: (c: number) => number): Float64Array => {
    for (let c = 0; c < C; c++) {
      const v = value(c);
      for (let p = 0; p < HW; p++) out[img.at(c, p)] = v;
    }
    return out;
  };
  const given = baseline ?? 0;
  if (given === 'mean')
    return perChannel((c) => {
      let s = 0;
      for (let p = 0; p < HW; p++) s += pixels[img.at(c, p)]!;
      return s / HW;
    });
  if (typeof given === 'number') {
    if (!Number.isFinite(given)) throw invalidArgument(where, 'baseline must be a finite number', given);
    return out.fill(given);
  }
  const n = typeof given === 'object' && given !== null ? given.length : undefined;
  if (n !== C && n !== pixels.length)
    throw invalidArgument(
      where,
      `baseline must be a number, 'mean', ${C} value${C === 1 ? '' : 's'} (one per channel) or a whole image of ${pixels.length} values`,
      given,
    );
  for (let i = 0; i < n; i++)
    if (!Number.isFinite(given[i]))
      throw invalidArgument(where, `baseline value ${i} must be a finite number`, given[i]);
  if (n === C) return perChannel((c) => given[c]!);
  out.set(given);
  return out;
}

/** Calls `f(p)` for every pixel `p = y·W + x` of a region. */
export function forEachPixel(region: Region, W: number, f: (p: number) => void): void {
  if (region.list !== undefined) {
    for (const p of region.list) f(p);
    return;
  }
  for (let y = region.top; y < region.top + region.height; y++)
    for (let x = region.left; x < region.left + region.width; x++) f(y * W + x);
}
