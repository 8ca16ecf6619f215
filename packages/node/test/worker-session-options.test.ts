/**
 * The session options a pool's workers load with: the cores shared out among the instances, and
 * onnxruntime's intra-op threads kept from spinning (they would take the main thread's core);
 * and, on Linux, the worker threads' lower priority.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { loadModel } from '@modelship/node';
import { describe, expect, it } from 'vitest';
import { type InThreadOptions, withThreads } from '../src/load-model';
import { modelPath } from './fixtures';

const o = (options: InThreadOptions) => options;

const spinning = (o: ReturnType<typeof withThreads>) =>
  (o.sessionOptions?.extra as { session?: { intra_op?: { allow_spinning?: string } } } | undefined)?.session
    ?.intra_op?.allow_spinning;

describe('worker session options', () => {
  it('share the cores among the instances and stop idle intra-op threads spinning', () => {
    const two = withThreads(o({ name: 'm' }), 4, 2);
    expect(two.intraOpNumThreads).toBe(2);
    expect(spinning(two)).toBe('0');
    expect(withThreads(o({}), 3, 4).intraOpNumThreads).toBe(1);
  });

  it('keep what the caller set, and leave an in-thread session as onnxruntime makes it', () => {
    const own = withThreads(
      { intraOpNumThreads: 3, sessionOptions: { extra: { session: { intra_op: { allow_spinning: '1' } } } } },
      4,
      2,
    );
    expect([own.intraOpNumThreads, spinning(own)]).toEqual([3, '1']);
    const flat = withThreads({ sessionOptions: { extra: { 'session.intra_op.allow_spinning': '1' } } }, 4, 1);
    expect(flat.sessionOptions?.extra).toEqual({ 'session.intra_op.allow_spinning': '1' });
    const kept = withThreads({ sessionOptions: { extra: { session: { use_env_allocators: '1' } } } }, 2, 1);
    expect(kept.sessionOptions?.extra).toEqual({
      session: { use_env_allocators: '1', intra_op: { allow_spinning: '0' } },
    });
    const inThread = withThreads(o({ name: 'm' }), undefined, 0);
    expect([inThread.intraOpNumThreads, spinning(inThread)]).toEqual([undefined, undefined]);
  });
});

/** The nice value of each of this process's threads, by thread id. */
function niceByThread(): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    out.set(tid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
  }
  return out;
}

describe.runIf(existsSync('/proc/thread-self'))('worker thread priority (Linux)', () => {
  it('runs a worker and the threads it starts below the main thread, which keeps its own', async () => {
    const main = niceByThread().get(String(process.pid))!;
    const before = new Set(niceByThread().keys());
    const model = await loadModel(modelPath('fraud'), { instances: 1 });
    try {
      const started = [...niceByThread()].filter(([tid]) => !before.has(tid)).map(([, nice]) => nice);
      expect(started.filter((n) => n === Math.min(19, main + 5)).length).toBeGreaterThanOrEqual(1);
      expect(niceByThread().get(String(process.pid))).toBe(main);
    } finally {
      await model.dispose();
    }
  });
});
