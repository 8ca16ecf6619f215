/**
 * No import circles in the packages' sources (scripts/import-cycles.ts), and the check itself on
 * small trees with known circles, so a checker that silently finds nothing cannot pass.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findCycles, importGraph, relativeImports, sourceFiles, workspaceGraph } from './import-cycles';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The circles that type-only imports may make, each with its reason. A new one fails the test:
 * cut it (move the shared type to the file both read) or add it here with its reason.
 */
// Every circle is cut, type-only ones included; a new one needs a reason here.
const TYPE_CIRCLES_ALLOWED: Record<string, string> = {};

const relativeCycles = (graph: Map<string, string[]>): string[] =>
  findCycles(graph).map((cycle) => cycle.map((f) => relative(root, f)).join(' -> '));

/** Writes `files` (path to text) under a fresh directory and returns it. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'import-cycles-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

describe('import circles', () => {
  it('reads value imports and re-exports, leaving out type-only ones, packages and dynamic imports', () => {
    const text = [
      "import { a } from './a';",
      "import b from '../b.js';",
      "import * as c from './c/index';",
      "import './side-effect';",
      "import { type T, d } from './d';",
      "export { e } from './e';",
      "export * from './f';",
      "import type { U } from './type-only';",
      "import { type V, type W } from './inline-types';",
      "export type { X } from './type-export';",
      "export { type Y } from './inline-type-export';",
      "import { z } from 'eventemitter3';",
      "const lazy = () => import('./lazy');",
    ].join('\n');
    const values = ['./a', '../b.js', './c/index', './side-effect', './d', './e', './f'];
    expect(relativeImports('x.ts', text)).toEqual(values);
    expect(relativeImports('x.ts', text, { types: true })).toEqual([
      ...values,
      './type-only',
      './inline-types',
      './type-export',
      './inline-type-export',
    ]);
  });

  it('finds a two-file circle, a longer one through a folder index and a self-import, and nothing in a chain', () => {
    const dir = tree({
      'src/a.ts': "import { b } from './b';\nexport const a = 1;",
      'src/b.ts': "import { a } from './a.js';\nexport const b = a;",
      'src/c.ts': "import { d } from './sub';\nexport const c = 1;",
      'src/sub/index.ts': "export { d } from './d';",
      'src/sub/d.ts': "import { e } from '../e';\nexport const d = 1;",
      'src/e.ts': "import { c } from './c';\nexport const e = 1;",
      'src/self.ts': "export { s } from './self';\nexport const s = 1;",
      'src/chain1.ts': "import { x } from './chain2';",
      'src/chain2.ts': "import type { y } from './chain1';\nexport const x = 1;",
      'src/a.test.ts': "import { a } from './a';",
    });
    const files = sourceFiles(join(dir, 'src'));
    expect(files.some((f) => f.endsWith('.test.ts'))).toBe(false);
    const cycles = findCycles(importGraph(files, (f) => readFileSync(f, 'utf8')))
      .map((cycle) => cycle.map((f) => f.slice(dir.length + 5)))
      .sort((x, y) => x[0]!.localeCompare(y[0]!));
    expect(cycles).toEqual([
      ['a.ts', 'b.ts', 'a.ts'],
      ['c.ts', 'sub/index.ts', 'sub/d.ts', 'e.ts', 'c.ts'],
      ['self.ts', 'self.ts'],
    ]);
    // Counting type-only imports, the chain becomes a circle too.
    const withTypes = findCycles(importGraph(files, (f) => readFileSync(f, 'utf8'), { types: true }));
    expect(withTypes.map((cycle) => cycle.map((f) => f.slice(dir.length + 5)))).toContainEqual([
      'chain1.ts',
      'chain2.ts',
      'chain1.ts',
    ]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds no circle of value imports in packages/*/src', () => {
    const graph = workspaceGraph(root);
    // The walk saw the sources and their imports (a wrong root would find no circle in nothing).
    expect(graph.size).toBeGreaterThan(200);
    expect([...graph.values()].flat().length).toBeGreaterThan(graph.size);
    expect(relativeCycles(graph)).toEqual([]);
  });

  it('finds, counting type-only imports, only the circles allowed with a reason', () => {
    const cycles = relativeCycles(workspaceGraph(root, { types: true }));
    expect(cycles.filter((c) => !(c in TYPE_CIRCLES_ALLOWED))).toEqual([]);
  });
});
