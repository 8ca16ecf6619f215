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
  listCachedModels,
  loadModel,
  ModelshipError,
  Monitor,
  Pipeline,
  Profile,
  parseCsv,
  renderReportHtml,
} from '@modelship/browser';

const pad = document.querySelector<HTMLCanvasElement>('#pad')!;
const status = document.querySelector<HTMLElement>('#status')!;
const progress = document.querySelector<HTMLProgressElement>('#progress')!;
const digit = document.querySelector<HTMLElement>('#digit')!;
const confidence = document.querySelector<HTMLElement>('#confidence')!;
const bars = document.querySelector<HTMLOListElement>('#bars')!;
const footer = document.querySelector<HTMLElement>('#diagnostics')!;
const ctx = pad.getContext('2d', { willReadFrequently: true })!;

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

async function refresh(): Promise<void> {
  const p = await predict(toPixels());
  const best = p.indexOf(Math.max(...p));
  digit.textContent = String(best);
  confidence.textContent = `${(p[best]! * 100).toFixed(1)}% sure`;
  bars.querySelectorAll('li').forEach((li, d) => {
    li.classList.toggle('top', d === best);
    li.querySelector<HTMLElement>('.fill')!.style.width = `${(p[d]! * 100).toFixed(1)}%`;
    li.querySelector<HTMLElement>('.pct')!.textContent = `${(p[d]! * 100).toFixed(0)}%`;
  });
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
    api: {
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
