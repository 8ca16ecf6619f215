/**
 * JSON as TF Serving's REST API reads it: standard JSON plus the bare tokens `NaN`, `Infinity`
 * and `-Infinity` outside strings, which its documentation allows for float values. Kept apart
 * from the Open Inference Protocol's decoder, whose JSON is the standard one.
 */

import { parseJsonBody, parseJsonValue } from './json-body';
import { MAX_JSON_DEPTH } from './json-scan';

/** Deeper than this, a document is refused rather than risk the stack (every JSON body's limit). */
const MAX_DEPTH = MAX_JSON_DEPTH;

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// A string's extent; JSON.parse then reads it and refuses bad escapes and raw control characters.
const STRING = /"(?:[^"\\]|\\.)*"/y;
const SPACE = /[ \t\n\r]*/y;

class TolerantParser {
  private at = 0;
  constructor(private readonly text: string) {}

  parse(): unknown {
    const value = this.value(0);
    this.space();
    if (this.at !== this.text.length) this.fail('unexpected text after the JSON value');
    return value;
  }

  private fail(why: string): never {
    throw new SyntaxError(`${why} at position ${this.at}`);
  }

  private space(): void {
    SPACE.lastIndex = this.at;
    SPACE.test(this.text);
    this.at = SPACE.lastIndex;
  }

  private match(re: RegExp): string | undefined {
    re.lastIndex = this.at;
    const m = re.exec(this.text);
    if (m === null) return undefined;
    this.at = re.lastIndex;
    return m[0];
  }

  private word(word: string): boolean {
    if (!this.text.startsWith(word, this.at)) return false;
    this.at += word.length;
    return true;
  }

  private value(depth: number): unknown {
    if (depth > MAX_DEPTH) this.fail(`JSON nested deeper than ${MAX_DEPTH} levels`);
    this.space();
    const c = this.text[this.at];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return JSON.parse(this.match(STRING) ?? this.fail('bad string')) as string;
    if (this.word('true')) return true;
    if (this.word('false')) return false;
    if (this.word('null')) return null;
    if (this.word('NaN')) return Number.NaN;
    if (this.word('Infinity')) return Number.POSITIVE_INFINITY;
    if (this.word('-Infinity')) return Number.NEGATIVE_INFINITY;
    const n = this.match(NUMBER);
    if (n === undefined) this.fail('unexpected token');
    return Number(n);
  }

  private array(depth: number): unknown[] {
    this.at++;
    const out: unknown[] = [];
    this.space();
    if (this.word(']')) return out;
    for (;;) {
      out.push(this.value(depth + 1));
      this.space();
      if (this.word(']')) return out;
      if (!this.word(',')) this.fail("expected ',' or ']'");
    }
  }

  private object(depth: number): Record<string, unknown> {
    this.at++;
    const out: Record<string, unknown> = {};
    this.space();
    if (this.word('}')) return out;
    for (;;) {
      this.space();
      const key = JSON.parse(this.match(STRING) ?? this.fail('expected a string key')) as string;
      this.space();
      if (!this.word(':')) this.fail("expected ':'");
      // defineProperty, so a "__proto__" key is a field as JSON.parse makes it, not a prototype.
      Object.defineProperty(out, key, {
        value: this.value(depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      this.space();
      if (this.word('}')) return out;
      if (!this.word(',')) this.fail("expected ',' or '}'");
    }
  }
}

/**
 * Parses a TF Serving request body. The standard parser runs first; only a body it refuses and
 * that holds `NaN` or `Infinity` is read again by the tolerant one, so ordinary requests pay
 * nothing for it.
 */
export function parseTfJson(text: string, what: string): Record<string, unknown> {
  return parseJsonBody(text, what, tolerant);
}

/** {@link parseTfJson} for a body that may be any JSON value, not only an object. */
export function parseTfJsonValue(text: string, what: string): unknown {
  return parseJsonValue(text, what, tolerant);
}

function tolerant(text: string): unknown {
  return /NaN|Infinity/.test(text) ? new TolerantParser(text).parse() : undefined;
}
