/**
 * What a log may keep of the data it sees. A log record has metadata (time, model, version, id,
 * status, latency: anything at its top level) and payload: whatever sits under `inputs`,
 * `outputs`, `records` or `parameters`. A {@link LogPolicy} says, field by field, which payload
 * is kept, dropped, hashed or truncated; payload it does not name gets `default`, which is
 * `drop`: no raw inputs are logged unless asked for.
 */
import { invalidArgument, ModelshipError } from '../errors';
import { toHex, utf8 } from '../signing/encoding';
import { HmacSha256 } from '../signing/hmac';

/**
 * What happens to one field: `keep` it, `drop` it, `hash` it (keyed HMAC-SHA-256 in hex, so
 * equal values still join across lines and systems), or `{ truncate: n }`: every string in it
 * keeps its first `n` code points and every array its first `n` elements (a batch tensor its
 * first `n` rows, and each row its first `n` values). A number, boolean or null has no length:
 * truncating leaves it whole; hash or drop a number that must not be seen.
 */
export type FieldPolicy = 'keep' | 'drop' | 'hash' | { truncate: number };

/**
 * Per-field rules for a log.
 *
 * @example
 * const policy: LogPolicy = {
 *   fields: { 'inputs.amount': 'keep', 'records.*.email': 'hash', 'outputs.*': { truncate: 10 } },
 *   default: 'drop',
 *   hashKey: process.env.LOG_HASH_KEY,
 * };
 */
export interface LogPolicy {
  /**
   * Rules by dot path from the record's top: `inputs.amount` (an OIP tensor is addressed by its
   * name, in a name-keyed object or an OIP `[{ name, data }]` list), `records.*.email`. `*`
   * matches any one segment (an object key or an array index); `\` escapes a `.`, `*` or `\` in
   * a name (`inputs.input\.1`). Paths start with a payload field or `*`. Where several rules
   * reach a value, the deepest wins; between rules of the same depth, the one with a name where
   * the other has `*`, compared from the left (`records.*.email` beats `*.*.email`).
   */
  fields?: Record<string, FieldPolicy>;
  /** For payload no rule reaches (default `drop`). Use `'keep'` to log every input and output. */
  default?: FieldPolicy;
  /**
   * The HMAC-SHA-256 key for `hash` (bytes, or a string taken as UTF-8): required when any rule
   * hashes, at least 16 bytes. Keep it secret and stable: whoever has it can test guesses
   * (is this line alice@example.com?), and a new key breaks joins with older lines.
   */
  hashKey?: Uint8Array | string;
}

/** Applies a {@link LogPolicy} to log records. */
export interface Redactor {
  /**
   * The record with its payload redacted: a new object; the argument is never changed. Kept
   * values are shared with the argument, not copied.
   */
  apply<T extends object>(record: T): Record<string, unknown>;
}

/** The top-level fields of a log record that hold payload; everything else is metadata. */
export const LOG_PAYLOAD_FIELDS: readonly string[] = ['inputs', 'outputs', 'records', 'parameters'];

/** The shortest `hashKey` accepted, in bytes. */
const MIN_KEY_BYTES = 16;

const WHERE = 'createRedactor';

type Action = { kind: 'keep' } | { kind: 'drop' } | { kind: 'hash' } | { kind: 'truncate'; n: number };

interface Rule {
  readonly segments: readonly string[];
  /** True where the segment is `*`. */
  readonly wild: readonly boolean[];
  readonly action: Action;
}

const DROPPED: unique symbol = Symbol('dropped');

/**
 * Checks a policy and returns the {@link Redactor} that applies it. Every mistake in the policy
 * (an unknown word, a negative truncate, `hash` without `hashKey`, a path outside the payload)
 * is an `INVALID_ARGUMENT` error here, never later while logging.
 *
 * @example
 * const redactor = createRedactor({ fields: { 'inputs.amount': 'keep' } });
 * redactor.apply({ model: 'fraud', inputs: { amount: [12.5], email: ['a@b.c'] } });
 * // { model: 'fraud', inputs: { amount: [12.5] } }
 */
export function createRedactor(policy?: LogPolicy): Redactor {
  if (policy !== undefined && (policy === null || typeof policy !== 'object' || Array.isArray(policy)))
    throw invalidArgument(WHERE, 'the policy must be an object { fields?, default?, hashKey? }', policy);
  const given = (policy ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(given))
    if (key !== 'fields' && key !== 'default' && key !== 'hashKey')
      throw invalidArgument(
        WHERE,
        `the policy has an unknown field "${key}" (expected fields, default, hashKey)`,
        key,
      );
  const fallback =
    given.default === undefined ? ({ kind: 'drop' } as const) : parseAction(given.default, 'default');
  const rules = parseRules(given.fields);
  const hashes = fallback.kind === 'hash' || rules.some((r) => r.action.kind === 'hash');
  const mac = given.hashKey === undefined ? undefined : new HmacSha256(parseKey(given.hashKey));
  if (hashes && mac === undefined)
    throw invalidArgument(
      WHERE,
      'a policy that hashes needs a hashKey (at least 16 secret bytes)',
      undefined,
    );
  return new PolicyRedactor(rules, fallback, mac);
}

class PolicyRedactor implements Redactor {
  /** Rules by depth, best first within a depth. */
  private readonly byDepth = new Map<number, Rule[]>();
  private readonly deepest: number;

  constructor(
    rules: readonly Rule[],
    private readonly fallback: Action,
    private readonly mac: HmacSha256 | undefined,
  ) {
    for (const rule of rules) {
      const list = this.byDepth.get(rule.segments.length) ?? [];
      list.push(rule);
      this.byDepth.set(rule.segments.length, list);
    }
    for (const list of this.byDepth.values()) list.sort(precedence);
    this.deepest = Math.max(0, ...this.byDepth.keys());
  }

  apply<T extends object>(record: T): Record<string, unknown> {
    if (record === null || typeof record !== 'object' || Array.isArray(record))
      throw invalidArgument('Redactor.apply', 'the record must be an object', record);
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(record)) {
      if (!LOG_PAYLOAD_FIELDS.includes(key)) {
        out[key] = value;
        continue;
      }
      const v = this.visit(value, [key], this.fallback);
      if (v !== DROPPED) out[key] = v;
    }
    return out;
  }

  private visit(value: unknown, path: string[], inherited: Action): unknown {
    const action = this.ruleFor(path)?.action ?? inherited;
    if (value === null || typeof value !== 'object' || !this.hasDeeper(path)) return this.act(action, value);
    if (isTensorList(value))
      return value.map((t) => {
        const { data, ...rest } = t;
        const v = this.visit(data, [...path, t.name], action);
        return v === DROPPED ? rest : { ...rest, data: v };
      });
    if (isArrayLike(value)) {
      const items = Array.from(value as ArrayLike<unknown>);
      // A truncated array stays cut even where deeper rules are applied inside it.
      const kept = action.kind === 'truncate' ? items.slice(0, action.n) : items;
      let any = false;
      const out = kept.map((item, i) => {
        const v = this.visit(item, [...path, String(i)], action);
        if (v === DROPPED) return null;
        any = true;
        return v;
      });
      return any || action.kind !== 'drop' ? out : DROPPED;
    }
    const out: Record<string, unknown> = {};
    let any = false;
    for (const [key, item] of Object.entries(value)) {
      const v = this.visit(item, [...path, key], action);
      if (v === DROPPED) continue;
      out[key] = v;
      any = true;
    }
    // A dropped container that no deeper rule kept anything of is dropped whole.
    return any || action.kind !== 'drop' ? out : DROPPED;
  }

  private act(action: Action, value: unknown): unknown {
    switch (action.kind) {
      case 'keep':
        return value;
      case 'drop':
        return DROPPED;
      case 'hash':
        // Strings are hashed as their UTF-8 bytes, so HMAC(key, email) computed anywhere joins.
        return toHex(this.mac!.mac(utf8(typeof value === 'string' ? value : canonicalJson(value, []))));
      case 'truncate':
        return truncate(value, action.n, []);
    }
  }

  private ruleFor(path: readonly string[]): Rule | undefined {
    return this.byDepth.get(path.length)?.find((r) => matches(r, path, path.length));
  }

  private hasDeeper(path: readonly string[]): boolean {
    for (let depth = path.length + 1; depth <= this.deepest; depth++)
      if (this.byDepth.get(depth)?.some((r) => matches(r, path, path.length))) return true;
    return false;
  }
}

/** True when the rule's first `n` segments match `path`'s. */
function matches(rule: Rule, path: readonly string[], n: number): boolean {
  for (let i = 0; i < n; i++) if (!rule.wild[i] && rule.segments[i] !== path[i]) return false;
  return true;
}

/** Same depth: a name beats `*` at the first segment where the two differ. */
function precedence(a: Rule, b: Rule): number {
  for (let i = 0; i < a.wild.length; i++) if (a.wild[i] !== b.wild[i]) return a.wild[i] ? 1 : -1;
  return 0;
}

function parseRules(fields: unknown): Rule[] {
  if (fields === undefined) return [];
  if (fields === null || typeof fields !== 'object' || Array.isArray(fields))
    throw invalidArgument(WHERE, 'fields must be an object of path → policy', fields);
  return Object.entries(fields).map(([path, policy]) => {
    const segments = splitPath(path);
    const first = segments[0]!;
    if (first.wild === false && !LOG_PAYLOAD_FIELDS.includes(first.name))
      throw invalidArgument(
        WHERE,
        `fields["${path}"]: a path starts with a payload field (${LOG_PAYLOAD_FIELDS.join(', ')}) or *; metadata is always kept`,
        first.name,
      );
    return {
      segments: segments.map((s) => s.name),
      wild: segments.map((s) => s.wild),
      action: parseAction(policy, `fields["${path}"]`),
    };
  });
}

/** Splits a dot path; `\` escapes the next character, a bare `*` segment is a wildcard. */
function splitPath(path: string): { name: string; wild: boolean }[] {
  const bad = (what: string): ModelshipError => invalidArgument(WHERE, `fields["${path}"]: ${what}`, path);
  if (path === '') throw bad('a path must not be empty');
  const out: { name: string; wild: boolean }[] = [];
  let name = '';
  let escaped = false;
  let literal = false;
  const end = (): void => {
    if (name === '') throw bad('every segment of a path must be non-empty');
    if (!literal && name.includes('*') && name !== '*')
      throw bad('* matches a whole segment; escape a literal * as \\*');
    out.push({ name, wild: !literal && name === '*' });
    name = '';
    literal = false;
  };
  for (const c of path) {
    if (escaped) {
      name += c;
      escaped = false;
      if (c === '*') literal = true;
    } else if (c === '\\') escaped = true;
    else if (c === '.') end();
    else name += c;
  }
  if (escaped) throw bad('a path must not end with an unfinished \\ escape');
  end();
  return out;
}

function parseAction(policy: unknown, where: string): Action {
  if (policy === 'keep' || policy === 'drop' || policy === 'hash') return { kind: policy };
  if (policy !== null && typeof policy === 'object' && !Array.isArray(policy)) {
    const keys = Object.keys(policy);
    const n = (policy as { truncate?: unknown }).truncate;
    if (keys.length === 1 && keys[0] === 'truncate') {
      if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0) return { kind: 'truncate', n };
      throw invalidArgument(WHERE, `${where}: truncate must be a non-negative integer`, n);
    }
  }
  throw invalidArgument(WHERE, `${where} must be 'keep', 'drop', 'hash' or { truncate: n }`, policy);
}

function parseKey(key: unknown): Uint8Array {
  const bytes = typeof key === 'string' ? utf8(key) : key instanceof Uint8Array ? key.slice() : undefined;
  if (bytes === undefined) throw invalidArgument(WHERE, 'hashKey must be a Uint8Array or a string', key);
  // A string key is never quoted in the message.
  if (bytes.length < MIN_KEY_BYTES)
    throw new ModelshipError(
      'INVALID_ARGUMENT',
      `${WHERE}: hashKey must be at least ${MIN_KEY_BYTES} bytes (32 random bytes are best), received a key of ${bytes.length} bytes`,
      { details: { where: WHERE } },
    );
  return bytes;
}

interface OipTensor {
  name: string;
  data: unknown;
  [key: string]: unknown;
}

/** An OIP tensor list (`[{ name, datatype, shape, data }]`), whose items are addressed by name. */
function isTensorList(value: object): value is OipTensor[] {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((t) => t !== null && typeof t === 'object' && typeof t.name === 'string' && 'data' in t)
  );
}

function isArrayLike(value: object): boolean {
  return Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView));
}

function enter(stack: object[], value: object): void {
  if (stack.includes(value))
    throw invalidArgument('Redactor.apply', 'the record must not contain cycles', value);
  stack.push(value);
}

/**
 * RFC 8785-style canonical JSON (object keys sorted, no spaces), so equal values hash alike
 * whatever their key order; a bigint is written as its digits, so `5n` and `5` hash alike.
 */
function canonicalJson(value: unknown, stack: object[]): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : 'null';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'boolean') return String(value);
  if (value === null || typeof value !== 'object') return 'null';
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return canonicalJson(toJSON.call(value), stack);
  enter(stack, value);
  let text: string;
  if (isArrayLike(value))
    text = `[${Array.from(value as ArrayLike<unknown>, (v) => canonicalJson(v, stack)).join(',')}]`;
  else {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined && typeof v !== 'function');
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    text = `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v, stack)}`).join(',')}}`;
  }
  stack.pop();
  return text;
}

function truncate(value: unknown, n: number, stack: object[]): unknown {
  if (typeof value === 'string') {
    let out = '';
    let count = 0;
    for (const c of value) {
      if (count++ === n) return out;
      out += c;
    }
    return value;
  }
  if (value === null || typeof value !== 'object') return value;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return truncate(toJSON.call(value), n, stack);
  enter(stack, value);
  let out: unknown;
  if (ArrayBuffer.isView(value) && !(value instanceof DataView))
    out = (value as unknown as { slice(a: number, b: number): unknown }).slice(0, n);
  else if (Array.isArray(value)) out = value.slice(0, n).map((v) => truncate(v, n, stack));
  else out = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, truncate(v, n, stack)]));
  stack.pop();
  return out;
}
