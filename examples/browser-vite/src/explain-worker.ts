/**
 * The explainer itself off the page: this worker loads the digit model with @modelship/browser
 * and runs explainImage there, so neither the occluded images nor the model calls touch the
 * page's thread. The page posts pixels and gets the heat map back (its buffer transferred).
 */
import { explainImage, loadModel, ModelshipError } from '@modelship/browser';

export interface ExplainRequest {
  id: number;
  pixels: number[];
  digit?: number;
}
export type ExplainReply =
  | { id: number; class: number; score: number; evaluations: number; heatmap: Float64Array }
  | { id: number; error: string };

const ready = loadModel('/models/digits.onnx');
const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<ExplainRequest>) => void) | null;
  postMessage(message: ExplainReply, transfer?: Transferable[]): void;
};

scope.onmessage = async ({ data: { id, pixels, digit } }) => {
  try {
    const ex = await explainImage(await ready, [pixels], {
      layout: 'flat',
      height: 8,
      width: 8,
      patchSize: 1,
      class: digit,
    });
    const heatmap = ex.heatmap.data;
    scope.postMessage({ id, class: ex.class, score: ex.score, evaluations: ex.evaluations, heatmap }, [
      heatmap.buffer,
    ]);
  } catch (e) {
    scope.postMessage({ id, error: ModelshipError.isInstance(e) ? `[${e.code}] ${e.message}` : String(e) });
  }
};
