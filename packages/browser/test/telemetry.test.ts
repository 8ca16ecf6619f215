/**
 * What browser telemetry sends, with a log policy: a fake fetch captures each request body.
 * (The Chromium test in examples/browser-vite sends through a real page.)
 */
import { createHmac } from 'node:crypto';
import { createTelemetry, type TelemetryOptions } from '@modelship/browser';
import { afterEach, describe, expect, it, vi } from 'vitest';

const KEY = 'the telemetry hash key, 16+ bytes';
const hmac = (s: string) => createHmac('sha256', KEY).update(s).digest('hex');

/** Sends `rows` for `model` through telemetry made with `options`; returns the bodies sent. */
async function send(options: Partial<TelemetryOptions>, model: string, rows: unknown[][]) {
  const bodies: { records: unknown[]; inputs: { model: string; rows: unknown[][] }[] }[] = [];
  vi.stubGlobal('fetch', async (_url: string, init: { body: string }) => {
    bodies.push(JSON.parse(init.body));
    return new Response('{}', { status: 200 });
  });
  const telemetry = createTelemetry({
    endpoint: 'https://models.example/v2/monitor/ingest',
    flushMs: 60_000,
    ...options,
  });
  telemetry.observeRows(model, rows);
  telemetry.record({ model, version: '1', latencyMs: 2 });
  await telemetry.close();
  return bodies;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('telemetry with a log policy', () => {
  const rows = [
    ['alice@example.com', 42, 'FR'],
    ['bob@example.com', 7, 'DE'],
  ];

  it('sends rows as given without a policy', async () => {
    const [body] = await send({}, 'fraud', rows);
    expect(body!.inputs).toEqual([{ model: 'fraud', rows }]);
    expect(body!.records).toEqual([{ model: 'fraud', version: '1', latencyMs: 2 }]);
  });

  it('hashes, keeps and drops cells as the policy says, and nothing raw leaves the page', async () => {
    const bodies = await send(
      { policy: { fields: { 'inputs.*.0': 'hash', 'inputs.fraud.1': 'keep' }, hashKey: KEY } },
      'fraud',
      rows,
    );
    expect(bodies).toHaveLength(1);
    expect(bodies[0]!.inputs).toEqual([
      {
        model: 'fraud',
        rows: [
          [hmac('alice@example.com'), 42, null],
          [hmac('bob@example.com'), 7, null],
        ],
      },
    ]);
    const text = JSON.stringify(bodies);
    for (const planted of ['alice', 'bob@', 'FR', 'DE']) expect(text).not.toContain(planted);
    // Prediction records carry no data and go as they are.
    expect(bodies[0]!.records).toEqual([{ model: 'fraud', version: '1', latencyMs: 2 }]);
  });

  it("applies the policy's default to each cell, never to a whole row", async () => {
    const [hashed] = await send({ policy: { default: 'hash', hashKey: KEY } }, 'm', [['a', 1]]);
    expect(hashed!.inputs).toEqual([{ model: 'm', rows: [[hmac('a'), hmac('1')]] }]);
    const [cut] = await send(
      { policy: { default: { truncate: 2 }, fields: { 'inputs.m.1': 'drop' } } },
      'm',
      [['abcdef', 'xyz', 3]],
    );
    expect(cut!.inputs).toEqual([{ model: 'm', rows: [['ab', null, 3]] }]);
    // A policy that keeps nothing sends no rows, only the records.
    const [none] = await send({ policy: {} }, 'm', [['a', 1]]);
    expect(none!.inputs).toEqual([]);
    expect(none!.records).toHaveLength(1);
  });

  it('refuses a bad policy when telemetry is created', () => {
    const make = (policy: unknown) => () =>
      createTelemetry({ endpoint: '/ingest', policy: policy as TelemetryOptions['policy'] });
    expect(make({ default: 'hash' })).toThrow(/needs a hashKey/);
    expect(make({ fields: { 'inputs.m': 'keep' } })).toThrow(/inputs\.<model>\.<column index>/);
    expect(make({ fields: { 'inputs.m.0.x': 'keep' } })).toThrow(/inputs\.<model>\.<column index>/);
    expect(make({ fields: { 'inputs.m.0': 'mask' } })).toThrow(/must be 'keep', 'drop', 'hash'/);
    expect(make('keep')).toThrow(/policy must be an object/);
  });
});
