import { ModelLoadError } from '@modelship/core';

/** Download progress: bytes so far, and the total when the server sent `Content-Length`. */
export interface Progress {
  loaded: number;
  total: number | undefined;
}

/**
 * Fetches a model's bytes, reporting progress as the body streams in. A failed request or an
 * HTTP error is a `MODEL_NOT_FOUND` {@link ModelLoadError} naming the URL and the status.
 */
export async function download(
  url: string,
  init: RequestInit | undefined,
  onProgress: ((p: Progress) => void) | undefined,
): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (e) {
    throw new ModelLoadError('MODEL_NOT_FOUND', `could not fetch '${url}': ${(e as Error).message}`, {
      cause: e,
      details: { source: url },
    });
  }
  if (!response.ok) {
    throw new ModelLoadError(
      'MODEL_NOT_FOUND',
      `fetching '${url}' answered ${response.status} ${response.statusText}`.trim(),
      {
        details: { source: url, status: response.status },
      },
    );
  }
  const header = response.headers.get('content-length');
  const declared = header === null ? undefined : Number(header);
  // A compressed response's Content-Length counts compressed bytes; it is then only a hint.
  const total =
    declared !== undefined && Number.isFinite(declared) && response.headers.get('content-encoding') === null
      ? declared
      : undefined;
  if (response.body === null || onProgress === undefined) {
    const bytes = new Uint8Array(await response.arrayBuffer());
    onProgress?.({ loaded: bytes.byteLength, total: bytes.byteLength });
    return bytes;
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  onProgress({ loaded: 0, total });
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.byteLength;
    onProgress({ loaded, total });
  }
  const bytes = new Uint8Array(loaded);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.byteLength;
  }
  if (total === undefined) onProgress({ loaded, total: loaded });
  return bytes;
}
