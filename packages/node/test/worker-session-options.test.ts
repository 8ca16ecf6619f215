/**
 * The session options a pool's workers load with: the cores shared out among the instances, and
 * onnxruntime's intra-op threads kept from spinning (they would take the main thread's core).
 */
import { describe, expect, it } from 'vitest';
import { type InThreadOptions, withThreads } from '../src/load-model';

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
