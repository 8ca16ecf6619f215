import { describe, expect, it } from 'vitest';
import { ClientGone } from '../src/server/node-io';

describe('ClientGone', () => {
  it('calls every listener still registered once, in order, with the reason kept', () => {
    const gone = new ClientGone();
    const calls: string[] = [];
    const a = () => calls.push('a');
    const b = () => calls.push('b');
    const c = () => calls.push('c');
    gone.addEventListener('abort', a);
    gone.addEventListener('abort', b);
    gone.addEventListener('abort', c);
    gone.removeEventListener('abort', a);
    gone.removeEventListener('abort', c);
    gone.addEventListener('abort', a);
    const reason = new Error('left');
    gone.abort(reason);
    gone.abort(new Error('again'));
    expect(calls).toEqual(['b', 'a']);
    expect(gone.aborted).toBe(true);
    expect(gone.reason).toBe(reason);
  });

  it('removing an unknown listener changes nothing', () => {
    const gone = new ClientGone();
    let n = 0;
    gone.addEventListener('abort', () => n++);
    gone.removeEventListener('abort', () => {});
    gone.abort(undefined);
    expect(n).toBe(1);
  });
});
