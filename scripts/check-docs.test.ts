/**
 * The docs check (scripts/check-docs.ts) on the real docs, and on a small document with known
 * faults, so a checker that silently checks nothing cannot pass.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkDocs, docFiles, extractBlocks, preludeProblem } from './check-docs';

describe('the docs check', () => {
  it('reads marks, preludes and expected output from the markdown', () => {
    const md = [
      '# t', // 1
      '<!-- prelude declare const n: number; -->', // 2
      '```ts', // 3
      'n + 1;', // 4
      '```', // 5
      '```sh run', // 6
      'echo hi', // 7
      '```', // 8
      '', // 9
      '```', // 10
      'hi', // 11
      '```', // 12
      '<!-- illustration -->', // 13
      '```sh', // 14
      'curl localhost:8000', // 15
      '```', // 16
      '```json', // 17
      '{}', // 18
      '```', // 19
    ].join('\n');
    expect(extractBlocks('t.md', md)).toEqual([
      {
        file: 't.md',
        line: 3,
        lang: 'ts',
        mode: 'check',
        code: 'n + 1;',
        prelude: 'declare const n: number;',
      },
      { file: 't.md', line: 6, lang: 'sh', mode: 'run', code: 'echo hi', prelude: '', expected: 'hi' },
      { file: 't.md', line: 14, lang: 'sh', mode: 'illustration', code: 'curl localhost:8000', prelude: '' },
    ]);
  });

  it('a prelude outside a run block may only import and declare', () => {
    const block = (prelude: string) =>
      ({ file: 't.md', line: 1, lang: 'ts', mode: 'check', code: '', prelude }) as const;
    expect(
      preludeProblem(
        block(
          "import type { Model } from '@modelship/node';\ndeclare const log: {\n  warn(m: string): void;\n};",
        ),
      ),
    ).toBeUndefined();
    expect(preludeProblem(block('declare const a: number;\nconst b = a + 1;'))).toMatch(
      /it has: const b = a \+ 1;/,
    );
    expect(preludeProblem({ ...block('const b = 1;'), mode: 'run' })).toBeUndefined();
  });

  it('reports a type error, an unmarked sh block and a wrong output at their markdown lines', () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelship-docs-test-'));
    const file = join(dir, 'bad.md');
    writeFileSync(
      file,
      [
        '```ts', // 1
        "import type { DType } from '@modelship/core';", // 2
        "const n: DType = 'float33';", // 3
        '```', // 4
        '```sh', // 5
        'ls', // 6
        '```', // 7
        '```sh run', // 8
        'modelship hash fixtures/models/iris.onnx', // 9
        '```', // 10
        '```', // 11
        'sha256-not-this', // 12
        '```', // 13
      ].join('\n'),
    );
    const { problems } = checkDocs([file]);
    expect(problems.map((p) => p.where.replace(dir, ''))).toEqual(['/bad.md:6', '/bad.md:3', '/bad.md:9']);
    expect(problems[1]!.message).toMatch(/error TS\d+: Type '"float33"' is not assignable to type 'DType'/);
    expect(problems[2]!.message).toMatch(/--- documented\nsha256-not-this\n--- printed\nsha256-\S{44}$/);
  });

  it('every block of README.md, docs/ and the package READMEs type-checks, runs, or is an illustration', () => {
    const files = docFiles();
    expect(files).toContain('docs/pipelines.md');
    const { blocks, problems } = checkDocs(files);
    expect(problems.map((p) => `${p.where}: ${p.message}`)).toEqual([]);
    // The checker saw the docs: the runnable ones included.
    expect(blocks.filter((b) => b.mode === 'run').length).toBeGreaterThanOrEqual(4);
    expect(blocks.filter((b) => b.mode === 'check').length).toBeGreaterThanOrEqual(20);
  });
}, 600_000);
