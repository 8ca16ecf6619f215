/**
 * Docs that run: every fenced `ts`/`js`/`sh` block in README.md, docs/*.md and the package
 * READMEs is checked, or says it is an illustration. Run by scripts/check-docs.test.ts (part of
 * `pnpm test`, so of CI), or alone: `pnpm check:docs`.
 *
 * How a block is marked (the info string after the language, or an HTML comment before it):
 *
 * - ```` ```ts ```` (and `js`): type-checked with `tsc --strict` against the workspace sources,
 *   as a module of its own (top-level `await` allowed).
 * - ```` ```ts run ````: type-checked, then run with tsx (60 s limit) in a temporary directory
 *   where `fixtures/` and `examples/` are the repository's, so `fixtures/models/fraud.onnx` and
 *   `examples/model-repository/iris/pipeline.json` are there; files it writes stay there.
 * - ```` ```sh run ````: run with bash (`set -e`) in such a directory, `modelship` being the CLI
 *   from the sources. When the next fence is a plain ```` ``` ```` block, it is the expected
 *   standard output and must match exactly (trailing spaces aside).
 * - ```` ```ts illustration ```` / ```` ```sh illustration ```` (or `<!-- illustration -->` on
 *   the line before): not checked. For fragments that need a server, a browser page, secrets,
 *   or stand for a shape rather than code (`pnpm bench …`, `curl localhost:8000 …`).
 *   An `sh` block must be `run` or `illustration`: there is nothing to type-check.
 * - A hidden prelude, `<!-- prelude … -->` on the lines before the fence, is prepended to the
 *   block: what the text around a fragment already defined. Keep it honest: outside a `run`
 *   block it may only import and `declare` (no values), so the block's own code is what is checked.
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export type Mode = 'check' | 'run' | 'illustration';

export interface Block {
  /** The markdown file, relative to the repository. */
  file: string;
  /** Line of the opening fence (1-based). */
  line: number;
  lang: 'ts' | 'js' | 'sh';
  mode: Mode;
  code: string;
  prelude: string;
  /** For `sh run`: the plain block that follows, the expected output. */
  expected?: string;
}

const LANGS: Record<string, Block['lang']> = {
  ts: 'ts',
  typescript: 'ts',
  js: 'js',
  javascript: 'js',
  sh: 'sh',
  bash: 'sh',
  shell: 'sh',
};

/** The markdown files whose blocks are checked. */
export function docFiles(): string[] {
  const files = ['README.md'];
  for (const f of readdirSync(join(root, 'docs')).sort()) if (f.endsWith('.md')) files.push(`docs/${f}`);
  for (const p of readdirSync(join(root, 'packages')).sort())
    if (existsSync(join(root, 'packages', p, 'README.md'))) files.push(`packages/${p}/README.md`);
  return files;
}

/** The fenced code blocks of one markdown text, with their marks. */
export function extractBlocks(file: string, text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)\s*(.*)$/.exec(lines[i]!);
    if (open === null) continue;
    const [, indent, fence, info = '', rest = ''] = open;
    let end = i + 1;
    while (end < lines.length && !lines[end]!.trimStart().startsWith(fence!)) end++;
    const code = lines
      .slice(i + 1, end)
      .map((l) => (l.startsWith(indent!) ? l.slice(indent!.length) : l))
      .join('\n');
    const lang = LANGS[info.toLowerCase()];
    if (lang !== undefined) {
      const before = comments(lines, i);
      const words = rest.split(/\s+/);
      const mode: Mode =
        words.includes('illustration') || before.some((c) => /^illustration\b/.test(c))
          ? 'illustration'
          : words.includes('run')
            ? 'run'
            : 'check';
      const prelude = before
        .filter((c) => /^prelude\b/.test(c))
        .map((c) => c.replace(/^prelude:?\s*/, ''))
        .join('\n');
      const block: Block = { file, line: i + 1, lang, mode, code, prelude };
      if (lang === 'sh' && mode === 'run') {
        // The expected output: a plain fence right after (blank lines between allowed).
        let j = end + 1;
        while (j < lines.length && lines[j]!.trim() === '') j++;
        const next = /^(\s*)(`{3,})\s*$/.exec(lines[j] ?? '');
        if (next !== null) {
          let k = j + 1;
          while (k < lines.length && !lines[k]!.trimStart().startsWith(next[2]!)) k++;
          block.expected = lines.slice(j + 1, k).join('\n');
        }
      }
      blocks.push(block);
    }
    i = end;
  }
  return blocks;
}

/** The HTML comments on the lines right before line `at` (nearest last), without `<!--` and `-->`. */
function comments(lines: string[], at: number): string[] {
  const found: string[] = [];
  let i = at - 1;
  while (i >= 0 && lines[i]!.trimEnd().endsWith('-->')) {
    let start = i;
    while (start >= 0 && !lines[start]!.includes('<!--')) start--;
    if (start < 0) break;
    const text = lines
      .slice(start, i + 1)
      .join('\n')
      .replace(/^[\s\S]*?<!--\s?/, '')
      .replace(/\s*-->\s*$/, '');
    found.unshift(text);
    i = start - 1;
  }
  return found;
}

/**
 * A prelude outside a `run` block may only import and declare (no values of its own): each
 * statement starting at bracket depth 0 starts with `import`, `declare`, `type` or `interface`.
 */
export function preludeProblem(block: Block): string | undefined {
  if (block.mode === 'run' || block.prelude === '') return undefined;
  let depth = 0;
  let fresh = true; // the previous statement has ended
  for (const raw of block.prelude.split('\n')) {
    const line = raw.replace(/\/\/.*$/, '').trim();
    if (line === '') continue;
    if (depth === 0 && fresh && !/^(import|declare|type|interface)\b/.test(line))
      return `its prelude may only import and declare outside a run block; it has: ${line.slice(0, 80)}`;
    for (const c of line) depth += '({['.includes(c) ? 1 : ')}]'.includes(c) ? -1 : 0;
    fresh = depth === 0 && /[;}]$/.test(line);
  }
  return undefined;
}

export interface Problem {
  where: string;
  message: string;
}

function where(b: Block, offset = 0): string {
  return `${b.file}:${b.line + 1 + offset}`;
}

/**
 * A scratch project outside the repository: `node_modules` links to the workspace packages
 * (their sources, through the `@modelship/source` condition) and to the few tools the docs
 * import; `fixtures` and `examples` link to the repository's.
 */
export function scratchProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'modelship-docs-'));
  const link = (target: string, path: string): void => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    symlinkSync(join(root, target), join(dir, path), 'dir');
  };
  for (const p of ['core', 'node', 'browser']) link(`packages/${p}`, `node_modules/@modelship/${p}`);
  link('node_modules/vitest', 'node_modules/vitest');
  link('node_modules/@types/node', 'node_modules/@types/node');
  link('examples/browser-vite/node_modules/vite', 'node_modules/vite');
  link('fixtures', 'fixtures');
  link('examples', 'examples');
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'docs-check', type: 'module', private: true }),
  );
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify(
      {
        compilerOptions: {
          strict: true,
          target: 'ES2022',
          module: 'ESNext',
          moduleResolution: 'Bundler',
          customConditions: ['@modelship/source'],
          lib: ['ES2022', 'DOM', 'DOM.Iterable'],
          types: ['node'],
          skipLibCheck: true,
          noEmit: true,
          allowJs: true,
          checkJs: true,
        },
        include: ['blocks/**/*'],
      },
      null,
      2,
    ),
  );
  mkdirSync(join(dir, 'blocks'));
  return dir;
}

function blockName(b: Block, i: number): string {
  return `${String(i).padStart(3, '0')}-${b.file.replace(/[/.]/g, '_')}-${b.line}.${b.lang}`;
}

/** Type-checks every `ts`/`js` block that is not an illustration, in one tsc run. */
export function typeCheck(blocks: Block[], dir: string): Problem[] {
  const problems: Problem[] = [];
  const files = new Map<string, { block: Block; offset: number }>();
  blocks.forEach((b, i) => {
    if (b.lang === 'sh' || b.mode === 'illustration') return;
    const prelude = preludeProblem(b);
    if (prelude !== undefined) problems.push({ where: where(b), message: prelude });
    const head = b.prelude === '' ? '' : `${b.prelude}\n`;
    const name = blockName(b, i);
    // `export {}` makes each block a module: its own scope, top-level await allowed.
    writeFileSync(join(dir, 'blocks', name), `${head}${b.code}\nexport {};\n`);
    files.set(`blocks/${name}`, { block: b, offset: head === '' ? 0 : head.split('\n').length - 1 });
  });
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json', '--pretty', 'false'], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 300_000,
  });
  for (const line of `${r.stdout}`.split('\n')) {
    const m = /^(.+?)\((\d+),(\d+)\): (error .*)$/.exec(line);
    if (m === null) continue;
    const f = files.get(m[1]!.replace(/\\/g, '/'));
    if (f === undefined) {
      problems.push({ where: m[1]!, message: m[4]! });
      continue;
    }
    const at = Number(m[2]) - f.offset;
    problems.push({
      where: at >= 1 ? where(f.block, at - 1) : `${where(f.block)} (its prelude)`,
      message: m[4]!,
    });
  }
  if (r.status !== 0 && problems.length === 0)
    problems.push({ where: 'tsc', message: `${r.stdout}${r.stderr}`.slice(0, 2000) || `exit ${r.status}` });
  return problems;
}

const tsx = join(root, 'packages', 'node', 'node_modules', 'tsx', 'dist', 'cli.mjs');

/** Runs the `ts run` and `sh run` blocks, each within 60 s, in the scratch project. */
export function runBlocks(blocks: Block[], dir: string): Problem[] {
  const problems: Problem[] = [];
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  // `modelship` as a user has it on PATH: the CLI, here from the sources.
  writeFileSync(
    join(bin, 'modelship'),
    `#!/bin/sh\nexec "${process.execPath}" "${tsx}" --conditions=@modelship/source "${join(root, 'packages/node/src/cli/bin.ts')}" "$@"\n`,
    { mode: 0o755 },
  );
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, MODELSHIP_PROGRESS: '0' };
  blocks.forEach((b, i) => {
    if (b.mode !== 'run') return;
    const name = blockName(b, i);
    let r: ReturnType<typeof spawnSync>;
    if (b.lang === 'sh') {
      writeFileSync(join(dir, 'blocks', name), `set -e\n${b.code}\n`);
      r = spawnSync('bash', [join('blocks', name)], { cwd: dir, env, encoding: 'utf8', timeout: 60_000 });
    } else {
      r = spawnSync(process.execPath, [tsx, '--conditions=@modelship/source', join('blocks', name)], {
        cwd: dir,
        env,
        encoding: 'utf8',
        timeout: 60_000,
      });
    }
    if (r.error !== undefined || r.status !== 0) {
      problems.push({
        where: where(b),
        message: `exited with ${r.error?.message ?? r.status}:\n${String(r.stderr).slice(-2000)}`,
      });
      return;
    }
    if (b.expected !== undefined) {
      const tidy = (s: string) =>
        s
          .split('\n')
          .map((l) => l.trimEnd())
          .join('\n')
          .trim();
      if (tidy(String(r.stdout)) !== tidy(b.expected))
        problems.push({
          where: where(b),
          message: `the output differs from the block after it:\n--- documented\n${tidy(b.expected)}\n--- printed\n${tidy(String(r.stdout))}`,
        });
    }
  });
  return problems;
}

/** Every problem of every doc block: unmarked sh blocks, type errors, failed runs. */
export function checkDocs(files = docFiles()): { blocks: Block[]; problems: Problem[] } {
  const blocks = files.flatMap((f) =>
    extractBlocks(f, readFileSync(isAbsolute(f) ? f : join(root, f), 'utf8')),
  );
  const problems: Problem[] = [];
  for (const b of blocks)
    if (b.lang === 'sh' && b.mode === 'check')
      problems.push({ where: where(b), message: 'an sh block must be marked `sh run` or `sh illustration`' });
  const dir = scratchProject();
  try {
    problems.push(...typeCheck(blocks, dir), ...runBlocks(blocks, dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { blocks, problems };
}

if (process.argv[1] !== undefined && relative(process.argv[1], fileURLToPath(import.meta.url)) === '') {
  const { blocks, problems } = checkDocs();
  const counts = (m: Mode) => blocks.filter((b) => b.mode === m).length;
  for (const p of problems) console.error(`${p.where}: ${p.message}`);
  console.log(
    `docs: ${blocks.length} blocks (${counts('run')} run, ${counts('check')} type-checked, ${counts('illustration')} illustrations), ${problems.length} problem(s)`,
  );
  process.exitCode = problems.length === 0 ? 0 : 1;
}
