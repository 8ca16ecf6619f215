import {
  argmax,
  asDType,
  type BrowserModel,
  clearModelCache,
  createTelemetry,
  Deployer,
  decodeImage,
  evaluate,
  evictModel,
  explain,
  explainImage,
  type ImageExplanation,
  listCachedModels,
  loadModel,
  ModelshipError,
  Monitor,
  Pipeline,
  Profile,
  parseCsv,
  renderReportHtml,
} from '@modelship/browser';
import type { ExplainReply, ExplainRequest } from './explain-worker';

const pad = document.querySelector<HTMLCanvasElement>('#pad')!;
const status = document.querySelector<HTMLElement>('#status')!;
const progress = document.querySelector<HTMLProgressElement>('#progress')!;
const digit = document.querySelector<HTMLElement>('#digit')!;
const confidence = document.querySelector<HTMLElement>('#confidence')!;
const bars = document.querySelector<HTMLOListElement>('#bars')!;
const footer = document.querySelector<HTMLElement>('#diagnostics')!;
const heat = document.querySelector<HTMLCanvasElement>('#heat')!;
const why = document.querySelector<HTMLElement>('#why')!;
const ctx = pad.getContext('2d', { willReadFrequently: true })!;
const heatCtx = heat.getContext('2d')!;

for (let d = 0; d < 10; d++) {
  bars.insertAdjacentHTML(
    'beforeend',
    `<li data-digit="${d}"><b>${d}</b><span class="track"><span class="fill"></span></span><span class="pct">–</span></li>`,
  );
}

// `?integrity=sha256-…` pins the model's hash (the tests use it to see a mismatch refused);
// `?worker=1` runs the session in a Web Worker.
const params = new URLSearchParams(location.search);
const integrity = params.get('integrity') ?? undefined;
const worker = params.get('worker') === '1';

// @modelship/browser runs on wasm; `@modelship/browser/webgpu` has the same API with WebGPU
// (`executionProviders: ['webgpu', 'wasm']`) for twice the download.
const ready: Promise<BrowserModel> = loadModel('/models/digits.onnx', {
  cache: true,
  integrity,
  worker,
  onProgress: ({ loaded, total }) => {
    progress.value = total ? loaded / total : 0;
  },
});

ready.then(
  (model) => {
    const d = model.diagnostics;
    status.textContent = 'Ready: draw a digit';
    progress.hidden = true;
    footer.textContent = `${d.executionProvider}${d.worker ? ' in a worker' : ''} · ${d.threads} thread${d.threads === 1 ? '' : 's'} · ${(d.bytes / 1024).toFixed(1)} KiB · cache ${d.cache}${d.notices.length ? ` · ${d.notices.join(' · ')}` : ''}`;
  },
  (e: unknown) => {
    status.textContent = ModelshipError.isInstance(e)
      ? `Could not load the model [${e.code}]: ${e.message}`
      : String(e);
    status.classList.add('error');
  },
);

/** The model's probabilities for 8×8 pixels in 0..16 (sklearn's digits scale). */
async function predict(pixels: number[][]): Promise<number[]> {
  const model = await ready;
  const out = await model.predict({ pixels });
  return Array.from(asDType(out.probabilities!, 'float32').data);
}

/** Shrinks the drawing to 8×8 cells of ink coverage, 0..16, as the training data was made. */
function toPixels(): number[][] {
  const { data } = ctx.getImageData(0, 0, pad.width, pad.height);
  const cell = pad.width / 8;
  const rows: number[][] = [];
  for (let cy = 0; cy < 8; cy++) {
    const row: number[] = [];
    for (let cx = 0; cx < 8; cx++) {
      let ink = 0;
      for (let y = cy * cell; y < (cy + 1) * cell; y++) {
        for (let x = cx * cell; x < (cx + 1) * cell; x++) ink += data[(y * pad.width + x) * 4 + 3]! / 255;
      }
      row.push(Math.min(16, (ink / (cell * cell)) * 16 * 1.6));
    }
    rows.push(row);
  }
  return [rows.flat()];
}

/**
 * Which of the 8×8 pixels drove the model towards `digit` (default: its answer): each pixel is
 * hidden (set to 0) in turn and the probability lost is its share. 64 occluded images and the
 * drawing itself go to the model in one predict call, on the page or in its worker.
 */
async function explainDigit(pixels: number[][], digit?: number): Promise<ImageExplanation> {
  const model = await ready;
  return explainImage(model, pixels, { layout: 'flat', height: 8, width: 8, patchSize: 1, class: digit });
}

let explainer: Worker | undefined;
let nextId = 0;

/**
 * The same explanation computed entirely in a Web Worker of the app's own (explain-worker.ts),
 * which loads its own copy of the model: for explanations too heavy for the page's thread.
 */
function explainDigitInWorker(
  pixels: number[],
  digit?: number,
): Promise<{ class: number; score: number; evaluations: number; heatmap: Float64Array }> {
  explainer ??= new Worker(new URL('./explain-worker.ts', import.meta.url), { type: 'module' });
  const worker = explainer;
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const onMessage = ({ data }: MessageEvent<ExplainReply>): void => {
      if (data.id !== id) return;
      worker.removeEventListener('message', onMessage);
      if ('error' in data) reject(new Error(data.error));
      else resolve(data);
    };
    worker.addEventListener('message', onMessage);
    worker.postMessage({ id, pixels, digit } satisfies ExplainRequest);
  });
}

/** Tints each cell of the pad: red where the ink raised the answer's probability, blue where it lowered it. */
function drawHeat(ex: ImageExplanation): void {
  heatCtx.clearRect(0, 0, heat.width, heat.height);
  const values = ex.heatmap.data;
  const top = Math.max(...Array.from(values, Math.abs));
  const cell = heat.width / ex.width;
  for (let p = 0; p < values.length; p++) {
    const v = values[p]!;
    if (v === 0) continue;
    const strength = 0.15 + 0.5 * (Math.abs(v) / top);
    heatCtx.fillStyle = v > 0 ? `rgba(220, 38, 38, ${strength})` : `rgba(37, 99, 235, ${strength})`;
    heatCtx.fillRect((p % ex.width) * cell, Math.floor(p / ex.width) * cell, cell, cell);
  }
  heat.dataset.digit = String(ex.class);
  why.textContent = `Tinted cells drove the ${ex.class}: red raised its probability, blue lowered it.`;
}

let explained: ImageExplanation | undefined;

async function refresh(): Promise<void> {
  const pixels = toPixels();
  const p = await predict(pixels);
  const best = p.indexOf(Math.max(...p));
  digit.textContent = String(best);
  confidence.textContent = `${(p[best]! * 100).toFixed(1)}% sure`;
  bars.querySelectorAll('li').forEach((li, d) => {
    li.classList.toggle('top', d === best);
    li.querySelector<HTMLElement>('.fill')!.style.width = `${(p[d]! * 100).toFixed(1)}%`;
    li.querySelector<HTMLElement>('.pct')!.textContent = `${(p[d]! * 100).toFixed(0)}%`;
  });
  explained = await explainDigit(pixels, best);
  drawHeat(explained);
}

let drawing = false;
let last: [number, number] | undefined;
ctx.lineCap = 'round';
ctx.lineJoin = 'round';
ctx.lineWidth = 26;
ctx.strokeStyle = '#1d2433';

pad.addEventListener('pointerdown', (e) => {
  drawing = true;
  last = [e.offsetX, e.offsetY];
  pad.setPointerCapture(e.pointerId);
});
pad.addEventListener('pointermove', (e) => {
  if (!drawing || last === undefined) return;
  ctx.beginPath();
  ctx.moveTo(...last);
  ctx.lineTo(e.offsetX, e.offsetY);
  ctx.stroke();
  last = [e.offsetX, e.offsetY];
});
pad.addEventListener('pointerup', () => {
  drawing = false;
  last = undefined;
  void refresh();
});
document.querySelector('#clear')!.addEventListener('click', () => {
  ctx.clearRect(0, 0, pad.width, pad.height);
  heatCtx.clearRect(0, 0, heat.width, heat.height);
  delete heat.dataset.digit;
  why.textContent = '';
  explained = undefined;
  digit.textContent = '–';
  confidence.textContent = '';
  bars.querySelectorAll<HTMLElement>('.fill').forEach((f) => {
    f.style.width = '0';
  });
});

// A handle for the end-to-end tests (and the curious, from the console).
Object.assign(window, {
  modelshipDemo: {
    ready,
    predict,
    toPixels,
    explainDigit,
    explainDigitInWorker,
    /** The explanation the heat map on the pad shows. */
    get explained() {
      return explained;
    },
    api: {
      explain,
      explainImage,
      loadModel,
      evictModel,
      listCachedModels,
      clearModelCache,
      Deployer,
      evaluate,
      parseCsv,
      renderReportHtml,
      Monitor,
      Profile,
      createTelemetry,
      Pipeline,
      argmax,
      decodeImage,
    },
  },
});
