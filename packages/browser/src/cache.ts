/**
 * Model bytes kept in Cache Storage, keyed by URL and integrity hash, so a model downloads once
 * and a changed hash never serves stale bytes.
 */
import { ModelshipError } from '@modelship/core';

/** The Cache Storage cache Modelship keeps models in. */
export const CACHE_NAME = 'modelship-models-v1';

/** The request key for a model: its absolute URL, plus the expected hash when there is one. */
export function cacheKey(url: string, integrity: string | undefined): string {
  const absolute = new URL(url, globalThis.location?.href).href;
  if (integrity === undefined) return absolute;
  return `${absolute}#modelship-integrity=${encodeURIComponent(integrity)}`;
}

function cacheStorage(): CacheStorage | undefined {
  return (globalThis as { caches?: CacheStorage }).caches;
}

/** The cached bytes for `key`, or undefined (also when Cache Storage is unavailable). */
export async function readCached(key: string): Promise<Uint8Array | undefined> {
  const storage = cacheStorage();
  if (storage === undefined) return undefined;
  const cache = await storage.open(CACHE_NAME);
  const hit = await cache.match(key);
  return hit === undefined ? undefined : new Uint8Array(await hit.arrayBuffer());
}

/**
 * Stores bytes under `key`. A full quota becomes a `MODEL_CACHE_FAILED` error naming the size, so
 * the caller can report it; the model itself still loads.
 */
export async function writeCached(key: string, bytes: Uint8Array): Promise<void> {
  const storage = cacheStorage();
  if (storage === undefined) return;
  const cache = await storage.open(CACHE_NAME);
  try {
    await cache.put(
      key,
      new Response(bytes as Uint8Array<ArrayBuffer>, {
        headers: { 'content-type': 'application/octet-stream' },
      }),
    );
  } catch (e) {
    const quota = (e as { name?: string }).name === 'QuotaExceededError';
    throw new ModelshipError(
      'MODEL_CACHE_FAILED',
      quota
        ? `the browser's storage quota has no room for ${bytes.byteLength} bytes of model; it was loaded but not cached`
        : `caching the model failed: ${(e as Error).message}`,
      { cause: e, details: { reason: quota ? 'quota' : 'error', bytes: bytes.byteLength } },
    );
  }
}

/** The URLs of the models in the cache (with their integrity suffix when they have one). */
export async function listCachedModels(): Promise<string[]> {
  const storage = cacheStorage();
  if (storage === undefined) return [];
  const cache = await storage.open(CACHE_NAME);
  return (await cache.keys()).map((r) => r.url);
}

/**
 * Removes a model from the cache, every hash of it, and returns how many entries were removed.
 *
 * @example
 * await evictModel('/models/digits.onnx');
 */
export async function evictModel(url: string): Promise<number> {
  const storage = cacheStorage();
  if (storage === undefined) return 0;
  const cache = await storage.open(CACHE_NAME);
  const absolute = new URL(url, globalThis.location?.href).href;
  let removed = 0;
  for (const request of await cache.keys()) {
    if (request.url === absolute || request.url.startsWith(`${absolute}#modelship-integrity=`)) {
      if (await cache.delete(request)) removed++;
    }
  }
  return removed;
}

/** Deletes every cached model. */
export async function clearModelCache(): Promise<boolean> {
  return (await cacheStorage()?.delete(CACHE_NAME)) ?? false;
}
