import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, realpath } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  type InputScreen,
  invalidArgument,
  type Model,
  ModelLoadError,
  ModelshipError,
  type Pipeline,
  type Profile,
  verifyIntegrity,
} from '@modelship/core';
import { baselineFromJSON } from '@modelship/core/baselines';
import type { ExplainSettings } from '@modelship/core/serve';
import { EventEmitter } from 'eventemitter3';
import { isEncryptedName } from '../decryption';
import { type LoadModelOptions, loadModel } from '../load-model';
import type { PayloadLogSettings } from '../payload-log/payload-log';
import { readConfigSignature } from '../signing/repository-policy';
import { readVerifiedModel } from '../signing/verify-model';
import { DEFAULT_CONFIG, isVersion, type ModelConfig, selectVersions } from './config';
import { readTextInside, resolveInside, withoutRoot } from './contain';
import { type ReadSettings, readExplainSettings } from './explain';
import {
  isModelName,
  type ModelOnDisk,
  modelFileOf,
  type RepositoryProblem,
  scanRepository,
  type VersionOnDisk,
} from './scan';
import { TextCache } from './text-cache';
import { readWarmupSamples, warmupFrom } from './warmup';

/** One row of the repository index (Triton's model repository extension). */
export interface RepositoryIndexEntry {
  name: string;
  version: string;
  state: 'READY' | 'LOADING' | 'UNAVAILABLE';
  reason: string;
}

const INDEX_STATE: Record<VersionState, RepositoryIndexEntry['state']> = {
  serving: 'READY',
  loading: 'LOADING',
  waiting: 'UNAVAILABLE',
  available: 'UNAVAILABLE',
  failed: 'UNAVAILABLE',
};

const INDEX_REASON: Record<VersionState, string> = {
  serving: '',
  loading: '',
  waiting: 'the file is still being written',
  available: 'not selected by the version policy',
  failed: 'failed to load',
};

/** What the repository needs of a Deployer: `@modelship/core`'s `Deployer` fits. */
export interface DeployTarget {
  deploy(name: string, source: () => Promise<Model>, options: Record<string, unknown>): Promise<unknown>;
  undeploy(name: string, version?: string): Promise<unknown>;
  /** Used to keep the primary when a version is reloaded from a file changed in place. */
  status?(name: string): { primary?: string | undefined };
  promote?(name: string, version: string): void;
}

/** SHA-256 of a file, read as a stream. */
function sha256Of(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (c) => hash.update(c))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

export interface RepositoryOptions extends Omit<LoadModelOptions, 'name' | 'version' | 'integrity'> {
  /** How often to look for new and removed versions (default 1000 ms, TF Serving's default). */
  pollIntervalMs?: number;
  /**
   * A model file must be unchanged for this long, and the same size as at the previous scan,
   * before it loads: a half-copied file is never read (default 500 ms).
   */
  settleMs?: number;
}

/**
 * `waiting`: still being written (or just written); `available`: on disk, not selected by the
 * version policy; `loading`; `serving`; `failed`: did not load or warm up (see `error`).
 */
export type VersionState = 'waiting' | 'available' | 'loading' | 'serving' | 'failed';

export interface VersionStatus {
  version: string;
  state: VersionState;
  error?: string;
  /** A serving version whose file changed in place and was not reloaded: why. */
  note?: string;
}

export interface RepositoryEvents {
  versionServing: [{ model: string; version: string }];
  versionRemoved: [{ model: string; version: string }];
  loadFailed: [{ model: string; version: string; error: unknown }];
  /**
   * A serving version's file was overwritten in place (other bytes, same path): `reloaded` from
   * the new bytes, or `refused` (they did not verify against the pinned integrity, or did not
   * load) while the bytes loaded before keep serving.
   */
  versionChanged: [{ model: string; version: string; outcome: 'reloaded' | 'refused'; reason?: string }];
  /** The model's monitor/quality.json or monitor/outliers.json appeared, changed or went away. */
  screenChanged: [{ model: string }];
  problem: [RepositoryProblem];
}

interface Tracked {
  state: VersionState;
  size: number;
  mtimeMs: number;
  error?: string;
  /** SHA-256 of the bytes the serving instance was loaded from. */
  sha256?: string;
  /** A changed file seen once, waiting to be seen unchanged before it is read. */
  pending?: { size: number; mtimeMs: number };
  /** Why the bytes on disk are not the ones serving (a refused in-place change). */
  note?: string;
}

/**
 * The TF Serving layout on disk, `<root>/<model>/<version>/model.onnx` with an optional
 * `<root>/<model>/config.json` (see {@link ModelConfig}), kept in step with a Deployer.
 *
 * Each scan loads the versions the model's policy selects (default: the latest one), verifies
 * their integrity, and deploys them before anything is removed, so a new version is serving
 * before the old one drains. A file is loaded only once it has kept its size across two scans
 * and has not been modified for `settleMs`. A file that fails to load is reported and not
 * retried until it or the model's config.json changes; the versions already serving go on
 * serving. A version's `warmup/*.json` files (or the location config.json's `warmup.samples`
 * names) are Open Inference Protocol requests run before it takes traffic; one that fails
 * refuses the version (see {@link readWarmupSamples}). Folder names that are not models or
 * versions, and symbolic links out of the root, are reported and ignored.
 *
 * @example
 * const deployer = new Deployer();
 * const repo = new FileSystemRepository('/models', { intraOpNumThreads: 1 });
 * repo.attach(deployer);
 * await repo.start();               // loads what is there, then watches for changes
 * await deployer.predict('fraud', { features });
 */
export class FileSystemRepository extends EventEmitter<RepositoryEvents> {
  readonly root: string;
  private readonly options: RepositoryOptions;
  private readonly pollIntervalMs: number;
  private readonly settleMs: number;
  private readonly tracked = new Map<string, Map<string, Tracked>>();
  private readonly configs = new Map<string, ModelConfig>();
  private readonly pipelines = new Map<string, Pipeline>();
  private readonly profiles = new Map<string, Profile>();
  private readonly screens = new Map<string, InputScreen>();
  /** Profiles and screens built from unchanged files, kept between scans. */
  private readonly parsed = new TextCache();
  private readonly explainRead = new Map<string, ReadSettings>();
  private readonly reported = new Set<string>();
  private target: DeployTarget | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<void> = Promise.resolve();
  /** Models unloaded by request: kept off the deployer until `load` asks for them again. */
  private readonly unloaded = new Set<string>();

  constructor(root: string, options: RepositoryOptions = {}) {
    super();
    if (typeof root !== 'string' || root === '')
      throw invalidArgument('FileSystemRepository', 'root must be a directory path', root);
    const { pollIntervalMs = 1000, settleMs = 500, ...load } = options;
    for (const [key, value] of Object.entries({ pollIntervalMs, settleMs })) {
      if (!Number.isFinite(value) || value < 0)
        throw invalidArgument('FileSystemRepository', `${key} must be a non-negative number`, value);
    }
    this.root = root;
    this.pollIntervalMs = pollIntervalMs;
    this.settleMs = settleMs;
    this.options = load;
  }

  /** Makes `target` (a Deployer) serve what the repository holds. Call before `start`. */
  attach(target: DeployTarget): this {
    if (typeof target?.deploy !== 'function' || typeof target.undeploy !== 'function') {
      throw invalidArgument(
        'FileSystemRepository.attach',
        'target must have deploy and undeploy methods',
        target,
      );
    }
    this.target = target;
    return this;
  }

  /** Scans once and reconciles; resolves when every load it started has finished. */
  sync(): Promise<void> {
    const next = this.running.then(() => this.reconcile());
    this.running = next.catch(() => undefined);
    return next;
  }

  /** Syncs now, then every `pollIntervalMs` until {@link stop}. */
  async start(): Promise<void> {
    if (this.target === undefined)
      throw invalidArgument('FileSystemRepository.start', 'attach a deployer first', undefined);
    await this.sync();
    const tick = (): void => {
      this.timer = setTimeout(() => {
        this.sync().then(tick, (e: unknown) => {
          this.emit('problem', { path: this.root, reason: `scan failed: ${(e as Error).message}` });
          tick();
        });
      }, this.pollIntervalMs);
      this.timer.unref?.();
    };
    tick();
  }

  /** Stops watching; what is deployed stays deployed. */
  async stop(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Every model and version the repository knows, with its state. */
  status(): Record<string, VersionStatus[]> {
    const out: Record<string, VersionStatus[]> = {};
    for (const model of this.tracked.keys()) out[model] = this.versionsOf(model);
    return out;
  }

  private versionsOf(model: string): VersionStatus[] {
    return [...(this.tracked.get(model) ?? [])]
      .sort((a, b) => Number(a[0]) - Number(b[0]))
      .map(([version, t]) => ({
        version,
        state: t.state,
        ...(t.error === undefined ? {} : { error: t.error }),
        ...(t.note === undefined ? {} : { note: t.note }),
      }));
  }

  /**
   * Every model and version with its state in Triton's words (`READY`, `LOADING`,
   * `UNAVAILABLE`) and why it is not ready, for the repository index extension.
   */
  index(): RepositoryIndexEntry[] {
    const out: RepositoryIndexEntry[] = [];
    for (const [model, versions] of Object.entries(this.status())) {
      for (const v of versions) {
        const unloaded = this.unloaded.has(model);
        const state = unloaded ? 'UNAVAILABLE' : INDEX_STATE[v.state];
        const reason = unloaded ? 'unloaded' : (v.error ?? v.note ?? INDEX_REASON[v.state]);
        out.push({ name: model, version: v.version, state, reason });
      }
    }
    for (const model of this.unloaded) {
      if (!out.some((e) => e.name === model))
        out.push({ name: model, version: '', state: 'UNAVAILABLE', reason: 'unloaded' });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name) || Number(a.version) - Number(b.version));
  }

  /**
   * Loads (or reloads) a model from disk now: versions that failed get another try, and the
   * promise resolves once the version policy's choice serves. A model unloaded by request
   * comes back. Rejects when the model is not on disk or no version loads.
   */
  async load(model: string): Promise<void> {
    if (typeof model !== 'string' || !isModelName(model))
      throw new ModelshipError('MODEL_NOT_FOUND', `'${String(model)}' is not a model name`);
    this.unloaded.delete(model);
    for (const [version, t] of this.tracked.get(model) ?? []) {
      if (t.state === 'failed') this.tracked.get(model)!.delete(version);
    }
    await this.sync();
    // A Map lookup: a model named like an Object.prototype property ('constructor') is just a name.
    const versions = this.tracked.has(model) ? this.versionsOf(model) : undefined;
    if (versions === undefined || versions.length === 0)
      throw new ModelshipError('MODEL_NOT_FOUND', `the repository has no model '${model}'`);
    if (!versions.some((v) => v.state === 'serving')) {
      const failed = versions.find((v) => v.error !== undefined);
      throw new ModelshipError(
        'MODEL_REJECTED',
        `model '${model}' did not load${failed === undefined ? '' : `: version ${failed.version}: ${failed.error}`}`,
      );
    }
  }

  /** Takes a model off the deployer (its requests in flight finish) until `load` asks for it again. */
  async unload(model: string): Promise<void> {
    if (typeof model !== 'string' || !this.tracked.has(model))
      throw new ModelshipError('MODEL_NOT_FOUND', `the repository has no model '${String(model)}'`);
    this.unloaded.add(model);
    await this.sync();
  }

  /**
   * Loads one version from disk with its configured integrity check. Names are checked, and the
   * resolved file must lie inside the repository, so no path can reach outside it.
   */
  async loadVersion(model: string, version: string): Promise<Model> {
    if (typeof model !== 'string' || !isModelName(model))
      throw invalidArgument('loadVersion', 'not a valid model name', model);
    if (typeof version !== 'string' || !isVersion(version))
      throw invalidArgument('loadVersion', 'not a valid version', version);
    const vdir = join(this.root, model, version);
    const found = await modelFileOf(vdir);
    if (typeof found !== 'string')
      throw new ModelLoadError('MODEL_NOT_FOUND', `${model} version ${version}: ${found.reason}`);
    const file = await resolveInside(this.root, found);
    const shown = `${model}/${version}/${basename(found)}`;
    const integrity = this.integrityOf(model, version);
    const required = (this.configs.get(model) ?? DEFAULT_CONFIG).signature;
    const signature =
      required === undefined
        ? this.options.signature
        : await readConfigSignature(required, join(this.root, model));
    if (!file.endsWith('.json')) {
      const config = this.configs.get(model) ?? DEFAULT_CONFIG;
      const instances = config.instances ?? this.options.instances;
      const { decryption: fallback, ...options } = this.options;
      // The config's key source makes encryption required; the repository's serves encrypted files only.
      const decryption =
        config.decryption !== undefined
          ? {
              key:
                'keyEnv' in config.decryption
                  ? { env: config.decryption.keyEnv }
                  : { file: config.decryption.keyFile },
            }
          : isEncryptedName(file)
            ? fallback
            : undefined;
      return loadModel(file, {
        ...options,
        name: model,
        version,
        integrity,
        instances,
        signature,
        ...(decryption === undefined ? {} : { decryption }),
      });
    }
    // A baseline trained in TypeScript, saved with toJSON: checked like model bytes, then read.
    const bytes =
      signature === undefined
        ? new Uint8Array(await readFile(file))
        : await readVerifiedModel(file, signature);
    if (integrity !== undefined) await verifyIntegrity(bytes, integrity, { source: shown });
    let json: unknown;
    try {
      json = JSON.parse(Buffer.from(bytes).toString('utf8'));
    } catch (e) {
      throw new ModelLoadError('MODEL_INVALID', `${shown} is not JSON: ${(e as Error).message}`);
    }
    try {
      return baselineFromJSON(json, { name: model, version });
    } catch (e) {
      throw new ModelLoadError('MODEL_INVALID', `${shown}: ${(e as Error).message}`, { cause: e });
    }
  }

  /** The integrity pinned for a version in the model's config.json, if any. */
  private integrityOf(model: string, version: string): string | undefined {
    const pins = (this.configs.get(model) ?? DEFAULT_CONFIG).integrity;
    return Object.hasOwn(pins, version) ? pins[version] : undefined;
  }

  /**
   * The model's pipeline (`<model>/pipeline.json`, labelled by the config's labels file), as
   * of the last scan: the server takes records for it. Every version it serves was checked to fit.
   */
  pipeline(model: string): Pipeline | undefined {
    return this.pipelines.get(model);
  }

  /**
   * The model's `profile.json` (a {@link Profile} of its training data), as of the last scan:
   * `modelship serve` watches the model's drift against it. The same object until the file changes.
   */
  profile(model: string): Profile | undefined {
    return this.profiles.get(model);
  }

  /**
   * The input screen of the model's `monitor/quality.json` and `monitor/outliers.json`, as of
   * the last scan: `modelship serve` screens every request with it. The same object until a file,
   * profile.json or the pipeline's fields change.
   */
  screen(model: string): InputScreen | undefined {
    return this.screens.get(model);
  }

  /**
   * What `:explain` explains the model against: `<model>/explain/background.jsonl` (or the file
   * config.json's `explain.background` names; one record or row of numbers per line) with
   * config.json's `explain` defaults. Read on first use and again when the file or config
   * changes; undefined when the model has no background. A broken file is MODEL_INVALID naming it.
   */
  async explainSettings(model: string): Promise<ExplainSettings | undefined> {
    const config = this.configs.get(model);
    if (config === undefined) return undefined;
    const realRoot = await realpath(this.root);
    const read = await readExplainSettings(
      realRoot,
      join(realRoot, model),
      config.explain,
      this.explainRead.get(model),
    );
    if (read === undefined) this.explainRead.delete(model);
    else this.explainRead.set(model, read);
    return read?.settings;
  }

  /** A model's payload logging settings (config.json's `payloadLog`), over the server's. */
  payloadLogSettings(model: string): PayloadLogSettings | undefined {
    return this.configs.get(model)?.payloadLog;
  }

  /** The labels file of a model (config `labels`), one label per line. */
  async labels(model: string): Promise<string[] | undefined> {
    const file = this.configs.get(model)?.labels;
    if (file === undefined) return undefined;
    const text = await readTextInside(this.root, join(this.root, model, file));
    if (text === undefined)
      throw new ModelshipError('MODEL_INVALID', `the labels file ${model}/${file} does not exist`);
    return text.split(/\r?\n/).filter((l) => l !== '');
  }

  private async reconcile(): Promise<void> {
    const { models, problems } = await scanRepository(this.root, { cache: this.parsed });
    for (const p of problems) this.report(p);
    const seen = new Set<string>();
    const now = Date.now();
    for (const found of models) {
      // An unloaded model is reconciled as if it had no versions: whatever serves is removed.
      const m = this.unloaded.has(found.name) ? { ...found, versions: [] } : found;
      seen.add(m.name);
      const previous = this.configs.get(m.name);
      if (previous !== undefined && JSON.stringify(previous) !== JSON.stringify(m.config)) {
        // A new config (another integrity, say) deserves another try at versions that failed.
        for (const [version, t] of this.tracked.get(m.name) ?? []) {
          if (t.state === 'failed') this.tracked.get(m.name)!.delete(version);
        }
      }
      this.configs.set(m.name, m.config);
      // A new or changed pipeline.json: versions refused for not fitting the old one get another try.
      const before = this.pipelines.get(m.name);
      if (JSON.stringify(before) !== JSON.stringify(m.pipeline)) {
        for (const [version, t] of this.tracked.get(m.name) ?? []) {
          if (t.state === 'failed') this.tracked.get(m.name)!.delete(version);
        }
      }
      if (m.pipeline === undefined) this.pipelines.delete(m.name);
      else this.pipelines.set(m.name, m.pipeline);
      if (m.profile === undefined) this.profiles.delete(m.name);
      else if (JSON.stringify(this.profiles.get(m.name)) !== JSON.stringify(m.profile))
        this.profiles.set(m.name, m.profile);
      // the cache gives the same screen while its files, profile and pipeline fields are the same
      if (this.screens.get(m.name) !== m.screen) {
        if (m.screen === undefined) this.screens.delete(m.name);
        else this.screens.set(m.name, m.screen);
        this.emit('screenChanged', { model: m.name });
      }
      await this.reconcileModel(m, now);
    }
    for (const model of [...this.tracked.keys()]) {
      if (!seen.has(model)) this.pipelines.delete(model);
      if (!seen.has(model)) this.profiles.delete(model);
      if (!seen.has(model)) this.screens.delete(model);
      if (!seen.has(model))
        await this.reconcileModel(
          { name: model, dir: '', config: DEFAULT_CONFIG, pipeline: undefined, versions: [] },
          now,
        );
    }
  }

  private async reconcileModel(m: ModelOnDisk, now: number): Promise<void> {
    let versions = this.tracked.get(m.name);
    if (versions === undefined) {
      versions = new Map();
      this.tracked.set(m.name, versions);
    }
    const onDisk = new Map(m.versions.map((v) => [v.version, v]));
    const settled = m.versions.filter((v) => this.isSettled(versions.get(v.version), v, now));
    // A version that failed to load is passed over until its file changes, so the policy falls
    // back to the versions that work and nothing serving is removed for a broken newcomer.
    const loadable = () =>
      settled.filter((v) => {
        const t = versions.get(v.version);
        return !(t?.state === 'failed' && t.size === v.size && t.mtimeMs === v.mtimeMs);
      });
    for (const v of m.versions) {
      const t = versions.get(v.version);
      if (t?.state === 'serving' && (t.size !== v.size || t.mtimeMs !== v.mtimeMs))
        await this.reloadChanged(m, v, t, now);
    }
    let wanted = new Set(
      selectVersions(
        m.config.versionPolicy,
        loadable().map((v) => v.version),
      ),
    );
    // Load first, remove after: a new version serves before the old one goes.
    for (let attempt = 0; attempt <= m.versions.length; attempt++) {
      let failed = false;
      for (const version of wanted) {
        const t = versions.get(version);
        if (t?.state === 'serving' || t?.state === 'loading') continue;
        if (!(await this.deploy(m, onDisk.get(version)!, versions))) failed = true;
      }
      if (!failed) break;
      wanted = new Set(
        selectVersions(
          m.config.versionPolicy,
          loadable().map((v) => v.version),
        ),
      );
    }
    for (const [version, t] of [...versions]) {
      if (wanted.has(version)) continue;
      if (t.state === 'serving') {
        await this.target!.undeploy(m.name, version).catch((e: unknown) => {
          // The deployer may already have retired it (a replace policy does); nothing is lost.
          const code: string | undefined = ModelshipError.isInstance(e) ? e.code : undefined;
          if (code !== 'VERSION_NOT_FOUND' && code !== 'DEPLOYMENT_NOT_FOUND') throw e;
        });
        versions.delete(version);
        this.emit('versionRemoved', { model: m.name, version });
      } else if (!onDisk.has(version)) {
        versions.delete(version);
      }
    }
    // Versions on disk the policy does not select, or still being written, are only tracked.
    for (const v of m.versions) {
      const t = versions.get(v.version);
      if (t !== undefined && t.state !== 'waiting' && t.state !== 'available') continue;
      if (wanted.has(v.version)) continue;
      const state = this.isSettled(t, v, now) ? 'available' : 'waiting';
      versions.set(v.version, { state, size: v.size, mtimeMs: v.mtimeMs });
    }
    if (versions.size === 0 && m.versions.length === 0) this.tracked.delete(m.name);
  }

  private isSettled(previous: Tracked | undefined, disk: VersionOnDisk, now: number): boolean {
    if (now - disk.mtimeMs < this.settleMs) return false;
    // Seen before while still waiting: it must not have grown since.
    return previous === undefined || previous.state !== 'waiting' || previous.size === disk.size;
  }

  /**
   * A serving version whose file changed in place: once the new file has settled and its bytes
   * differ (not a mere touch), the version is loaded again from them, integrity pin checked,
   * and replaces the running instance; if they do not verify or load, the old instance keeps
   * serving and the status, the index and the `versionChanged` event say why.
   */
  private async reloadChanged(m: ModelOnDisk, disk: VersionOnDisk, t: Tracked, now: number): Promise<void> {
    const seen = t.pending;
    if (now - disk.mtimeMs < this.settleMs || seen?.size !== disk.size || seen.mtimeMs !== disk.mtimeMs) {
      t.pending = { size: disk.size, mtimeMs: disk.mtimeMs };
      return;
    }
    t.pending = undefined;
    t.size = disk.size;
    t.mtimeMs = disk.mtimeMs;
    const sha256 = await sha256Of(disk.file).catch(() => undefined);
    if (sha256 !== undefined && sha256 === t.sha256) return;
    const file = `${m.name}/${disk.version}/${basename(disk.file)}`;
    try {
      const primary = this.target!.status?.(m.name).primary;
      await this.deployVersion(m, disk);
      // A reload is not a new version: the primary stays what it was.
      if (primary !== undefined && primary !== disk.version) this.target!.promote?.(m.name, primary);
      t.sha256 = sha256;
      t.note = undefined;
      this.emit('versionChanged', { model: m.name, version: disk.version, outcome: 'reloaded' });
    } catch (error) {
      const reason = await this.publicMessage(error);
      t.note = `${file} changed on disk and was not loaded (${reason}); the bytes loaded before keep serving`;
      this.emit('versionChanged', { model: m.name, version: disk.version, outcome: 'refused', reason });
    }
  }

  private async deploy(
    m: ModelOnDisk,
    disk: VersionOnDisk,
    versions: Map<string, Tracked>,
  ): Promise<boolean> {
    const t: Tracked = { state: 'loading', size: disk.size, mtimeMs: disk.mtimeMs };
    versions.set(disk.version, t);
    try {
      // Hashed before loading: bytes changed during the load differ from this at the next poll.
      t.sha256 = await sha256Of(disk.file).catch(() => undefined);
      await this.deployVersion(m, disk);
      t.state = 'serving';
      this.emit('versionServing', { model: m.name, version: disk.version });
      return true;
    } catch (error) {
      t.state = 'failed';
      t.error = await this.publicMessage(error);
      this.emit('loadFailed', { model: m.name, version: disk.version, error });
      return false;
    }
  }

  /** Deploys (or reloads) a version from disk with its config's options and warmup samples. */
  private async deployVersion(m: ModelOnDisk, disk: VersionOnDisk): Promise<void> {
    // Read (not yet decoded) before the model loads: a broken sample file costs no load.
    const samples = await readWarmupSamples(await realpath(this.root), m.dir, disk.version, m.config);
    await this.target!.deploy(m.name, () => this.loadFitting(m, disk.version), {
      ...m.config.deploy,
      ...(samples === undefined ? {} : { warmup: warmupFrom(samples, m.name, m.config.deploy.warmup) }),
      version: disk.version,
      // The version policy decides what stays loaded; the repository undeploys the rest.
      replace: false,
    });
  }

  /** Loads a version and, when the model has a pipeline, checks the version takes what it makes. */
  private async loadFitting(m: ModelOnDisk, version: string): Promise<Model> {
    const model = await this.loadVersion(m.name, version);
    if (m.pipeline === undefined) return model;
    try {
      m.pipeline.wrap(model);
    } catch (e) {
      await model.dispose();
      throw new ModelLoadError(
        'MODEL_REJECTED',
        `pipeline.json does not fit version ${version}: ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    }
    return model;
  }

  /** An error's message for the index and error answers, which leave the server: no absolute paths (the log keeps them). */
  private async publicMessage(error: unknown): Promise<string> {
    const message = error instanceof Error ? error.message : String(error);
    return withoutRoot(message, this.root, await realpath(this.root).catch(() => this.root));
  }

  private report(p: RepositoryProblem): void {
    const key = `${p.path}\u0000${p.reason}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.emit('problem', p);
  }
}
