/**
 * Import circles in the packages' sources: every relative `import … from` and `export … from`
 * of `packages/*\/src` (tests left out: nothing imports them), followed file to file; a circle is
 * a strongly connected group of two or more files, or a file importing itself. Run by
 * scripts/import-cycles.test.ts (part of `pnpm test`).
 *
 * Two graphs are checked. Value imports must make no circle at all: a circle there lets a module
 * read a neighbour that has not finished evaluating. With type-only imports (`import type`,
 * `export type`, or braces holding only `type` names) counted too, the circles must be exactly
 * the few listed in the test, each with its reason: types are erased before anything runs, but a
 * new circle of them is still two files that cannot be read one without the other.
 * Dynamic `import()` is left out too: it is how a module loads another lazily, after both ran.
 * Package imports (`@modelship/core` from node) are not followed: a package cannot import
 * itself through its own name, and the packages' dependencies already go one way.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';

/** Which imports count: value imports only (default), or type-only ones too. */
export interface ImportKinds {
  types?: boolean;
}

/** The relative modules a source imports (for its values, unless `types`), as written. */
export function relativeImports(fileName: string, text: string, kinds: ImportKinds = {}): string[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const out: string[] = [];
  for (const st of sf.statements) {
    let spec: ts.Expression | undefined;
    if (ts.isImportDeclaration(st)) {
      const clause = st.importClause;
      if (clause?.isTypeOnly && !kinds.types) continue;
      const bindings = clause?.namedBindings;
      const onlyTypes =
        clause !== undefined &&
        clause.name === undefined &&
        bindings !== undefined &&
        ts.isNamedImports(bindings) &&
        bindings.elements.length > 0 &&
        bindings.elements.every((e) => e.isTypeOnly);
      if (onlyTypes && !kinds.types) continue;
      spec = st.moduleSpecifier;
    } else if (ts.isExportDeclaration(st) && st.moduleSpecifier !== undefined) {
      if (st.isTypeOnly && !kinds.types) continue;
      const clause = st.exportClause;
      if (
        !kinds.types &&
        clause !== undefined &&
        ts.isNamedExports(clause) &&
        clause.elements.length > 0 &&
        clause.elements.every((e) => e.isTypeOnly)
      )
        continue;
      spec = st.moduleSpecifier;
    }
    if (spec !== undefined && ts.isStringLiteral(spec) && spec.text.startsWith('.')) out.push(spec.text);
  }
  return out;
}

/** The file a relative specifier names: `./x` is x.ts or x/index.ts; `./x.js` is x.ts. */
export function resolveImport(from: string, spec: string): string | undefined {
  const base = resolve(dirname(from), spec);
  const stem = base.replace(/\.(js|mjs|cjs)$/, '');
  for (const candidate of [base, `${stem}.ts`, `${stem}.tsx`, join(base, 'index.ts')])
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  return undefined;
}

/** The import graph of `files`: each file's imports among them. */
export function importGraph(
  files: readonly string[],
  read: (f: string) => string,
  kinds: ImportKinds = {},
): Map<string, string[]> {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const f of files) {
    const targets: string[] = [];
    for (const spec of relativeImports(f, read(f), kinds)) {
      const target = resolveImport(f, spec);
      if (target !== undefined && known.has(target)) targets.push(target);
    }
    graph.set(f, targets);
  }
  return graph;
}

/**
 * Every circle of the graph, one per strongly connected group (Tarjan), as a path that starts
 * and ends at the same file, so a reader sees which imports to cut.
 */
export function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const groups: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      if (group.length > 1 || (graph.get(v) ?? []).includes(v)) groups.push(group);
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return groups.map((group) => pathThrough(graph, new Set(group)));
}

/** A shortest circle through the group's first file (in sorted order), by breadth-first search. */
function pathThrough(graph: ReadonlyMap<string, readonly string[]>, group: ReadonlySet<string>): string[] {
  const start = [...group].sort()[0]!;
  const parent = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const v = queue[i]!;
    for (const w of graph.get(v) ?? []) {
      if (!group.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u: string | undefined = v; u !== start && u !== undefined; u = parent.get(u))
          path.splice(1, 0, u);
        path.push(start);
        return path;
      }
      if (!parent.has(w)) {
        parent.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

/** The TypeScript sources (tests left out) under `dir`. */
export function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== '__snapshots__') out.push(...sourceFiles(p));
    } else if (
      /\.tsx?$/.test(entry.name) &&
      !/\.(test|case)\.tsx?$/.test(entry.name) &&
      !entry.name.endsWith('.d.ts')
    )
      out.push(p);
  }
  return out;
}

/** The import graph of every package's `src` under `root`. */
export function workspaceGraph(root: string, kinds: ImportKinds = {}): Map<string, string[]> {
  const packages = join(root, 'packages');
  const files = readdirSync(packages)
    .map((p) => join(packages, p, 'src'))
    .filter((d) => existsSync(d))
    .flatMap(sourceFiles);
  return importGraph(files, (f) => readFileSync(f, 'utf8'), kinds);
}
