/**
 * A server over a model repository on disk, as `modelship serve` builds one, for the
 * reliability tests (and any other that needs the whole stack: repository, Monitor, metrics).
 * Listens on 127.0.0.1 port 0; `close` stops the watcher, drains and closes everything.
 */
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createServer,
  Deployer,
  FileSystemRepository,
  type HandlerOptions,
  type ModelshipServer,
  Monitor,
} from '@modelship/node';
import { modelPath } from '../fixtures';

export const exampleRepository = fileURLToPath(
  new URL('../../../../examples/model-repository/', import.meta.url),
);

/** A minute ago: files older than the repository's settle time load at the first scan. */
export const settled = new Date(Date.now() - 60_000);

/** A scratch repository in the temp directory; `remove` deletes it. */
export function scratchRepository(prefix = 'modelship-reliability-'): {
  root: string;
  /** Copies a model folder of examples/model-repository in. */
  copyExample: (model: string, as?: string) => void;
  /** Writes `<model>/<version>/model.onnx` from a fixture (or the given bytes), settled. */
  putVersion: (model: string, version: string, fixture: string, bytes?: string) => string;
  remove: () => void;
} {
  const root = mkdtempSync(join(tmpdir(), prefix));
  return {
    root,
    copyExample: (model, as = model) =>
      cpSync(join(exampleRepository, model), join(root, as), { recursive: true }),
    putVersion: (model, version, fixture, bytes) => {
      const dir = join(root, model, version);
      mkdirSync(dir, { recursive: true });
      const file = join(dir, 'model.onnx');
      if (bytes === undefined) copyFileSync(modelPath(fixture), file);
      else writeFileSync(file, bytes);
      utimesSync(file, settled, settled);
      return file;
    },
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

export interface RepositoryServer {
  url: string;
  server: ModelshipServer;
  deployer: Deployer;
  monitor: Monitor;
  repository: FileSystemRepository;
  /** Problems the repository reported, as `path: reason`. */
  problems: string[];
  /** In-place changes, as `model/version outcome`. */
  changes: string[];
  get: (path: string) => Promise<{ status: number; json: unknown }>;
  post: (
    path: string,
    headers?: Record<string, string>,
    body?: string,
  ) => Promise<{ status: number; json: unknown }>;
  close: () => Promise<void>;
}

/** Serves `root` with a Monitor and the repository extension; `options` go to `createServer`. */
export async function serveRepository(root: string, options: HandlerOptions = {}): Promise<RepositoryServer> {
  const deployer = new Deployer();
  const monitor = new Monitor();
  monitor.attach(deployer);
  const repository = new FileSystemRepository(root, { settleMs: 0, pollIntervalMs: 60_000 });
  repository.attach(deployer);
  const problems: string[] = [];
  const changes: string[] = [];
  repository.on('problem', (p) => problems.push(`${p.path}: ${p.reason}`));
  repository.on('versionChanged', (e) => changes.push(`${e.model}/${e.version} ${e.outcome}`));
  await repository.start();
  const server = createServer(deployer, {
    repository,
    pipelines: repository,
    monitor,
    closeDeployer: true,
    ...options,
  });
  const { url } = await server.listen(0, '127.0.0.1');
  const answer = async (r: Response) => ({ status: r.status, json: (await r.json()) as unknown });
  return {
    url,
    server,
    deployer,
    monitor,
    repository,
    problems,
    changes,
    get: (path) => fetch(url + path).then(answer),
    post: (path, headers = {}, body) => fetch(url + path, { method: 'POST', headers, body }).then(answer),
    close: async () => {
      await repository.stop();
      await server.close();
    },
  };
}
