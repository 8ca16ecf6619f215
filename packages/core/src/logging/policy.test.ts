import { createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ModelshipError } from '../errors';
import { createRedactor, type FieldPolicy, type LogPolicy } from '../index';
import { toHex } from '../signing/encoding';
import { HmacSha256 } from '../signing/hmac';

const KEY = 'a log key of at least sixteen bytes';
const hmac = (text: string, key: string | Uint8Array = KEY): string =>
  createHmac('sha256', key).update(text, 'utf8').digest('hex');
const bytes = (n: number, b: number): Uint8Array => new Uint8Array(n).fill(b);
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const seq = (from: number, to: number): Uint8Array =>
  Uint8Array.from({ length: to - from + 1 }, (_, i) => from + i);

function invalid(policy: unknown): ModelshipError {
  try {
    createRedactor(policy as LogPolicy);
  } catch (e) {
    expect(ModelshipError.isInstance(e)).toBe(true);
    expect((e as ModelshipError).code).toBe('INVALID_ARGUMENT');
    return e as ModelshipError;
  }
  throw new Error('expected createRedactor to refuse the policy');
}

describe('HmacSha256', () => {
  // RFC 4231 §4.2-4.8.
  const vectors: [string, Uint8Array, Uint8Array, string][] = [
    [
      '1',
      bytes(20, 0x0b),
      text('Hi There'),
      'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
    ],
    [
      '2',
      text('Jefe'),
      text('what do ya want for nothing?'),
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    ],
    [
      '3',
      bytes(20, 0xaa),
      bytes(50, 0xdd),
      '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe',
    ],
    ['4', seq(1, 25), bytes(50, 0xcd), '82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b'],
    // Case 5 compares the first 128 bits only.
    ['5', bytes(20, 0x0c), text('Test With Truncation'), 'a3b6167473100ee06e0c796c2955552b'],
    [
      '6',
      bytes(131, 0xaa),
      text('Test Using Larger Than Block-Size Key - Hash Key First'),
      '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
    ],
    [
      '7',
      bytes(131, 0xaa),
      text(
        'This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.',
      ),
      '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2',
    ],
  ];
  it.each(vectors)('RFC 4231 test case %s', (_, key, data, expected) => {
    expect(toHex(new HmacSha256(key).mac(data)).slice(0, expected.length)).toBe(expected);
  });

  it('agrees with node:crypto for keys and messages around the block size', () => {
    for (const keyLength of [0, 1, 32, 63, 64, 65, 200])
      for (const messageLength of [0, 1, 55, 56, 64, 119, 1000]) {
        const key = randomBytes(keyLength);
        const message = randomBytes(messageLength);
        const mac = new HmacSha256(new Uint8Array(key));
        expect(toHex(mac.mac(new Uint8Array(message)))).toBe(
          createHmac('sha256', key).update(message).digest('hex'),
        );
        // The key schedule is reused: a second message gives its own MAC.
        expect(toHex(mac.mac(new Uint8Array(message.subarray(1))))).toBe(
          createHmac('sha256', key).update(message.subarray(1)).digest('hex'),
        );
      }
  });
});

describe('createRedactor', () => {
  const record = {
    time: '2026-11-30T22:00:00.000Z',
    model: 'fraud',
    version: 3,
    id: 'req-1',
    status: 200,
    latencyMs: 1.5,
    inputs: { amount: [[12.5], [99]], email: [['a@b.c'], ['d@e.f']] },
    outputs: {
      label: [1, 0],
      probabilities: [
        [0.1, 0.9],
        [0.8, 0.2],
      ],
    },
    records: [
      { email: 'alice@example.com', country: 'FR' },
      { email: 'bob@example.com', country: 'DE' },
    ],
    parameters: { threshold: 0.5 },
  };
  const metadata = {
    time: record.time,
    model: 'fraud',
    version: 3,
    id: 'req-1',
    status: 200,
    latencyMs: 1.5,
  };

  it('drops every payload field and keeps metadata when no policy is given', () => {
    expect(createRedactor().apply(record)).toEqual(metadata);
    expect(createRedactor({}).apply(record)).toEqual(metadata);
    // Fields that are not payload are metadata, whatever their name.
    expect(createRedactor().apply({ model: 'm', routingKey: 'u1', inputs: { x: [1] } })).toEqual({
      model: 'm',
      routingKey: 'u1',
    });
  });

  it("keeps everything with default: 'keep'", () => {
    expect(createRedactor({ default: 'keep' }).apply(record)).toEqual(record);
  });

  it('keeps a named field and drops the rest of the payload', () => {
    const out = createRedactor({ fields: { 'inputs.amount': 'keep', 'outputs.label': 'keep' } }).apply(
      record,
    );
    expect(out).toEqual({ ...metadata, inputs: { amount: [[12.5], [99]] }, outputs: { label: [1, 0] } });
  });

  it('drops a named field and keeps the rest', () => {
    const out = createRedactor({
      default: 'keep',
      fields: { 'inputs.email': 'drop', records: 'drop' },
    }).apply(record);
    expect(out).toEqual({
      ...metadata,
      inputs: { amount: [[12.5], [99]] },
      outputs: record.outputs,
      parameters: { threshold: 0.5 },
    });
  });

  it('hashes with a keyed HMAC-SHA-256 in hex that joins equal values', () => {
    const redactor = createRedactor({ fields: { 'records.*.email': 'hash' }, hashKey: KEY });
    const out = redactor.apply(record);
    expect(out.records).toEqual([{ email: hmac('alice@example.com') }, { email: hmac('bob@example.com') }]);
    // Equal values give equal hashes across records; the same key as bytes gives the same hash.
    const again = createRedactor({ fields: { 'records.*.email': 'hash' }, hashKey: text(KEY) }).apply({
      records: [{ email: 'alice@example.com' }],
    });
    expect((again.records as { email: string }[])[0]!.email).toBe(hmac('alice@example.com'));
    // Another key, another hash.
    const other = createRedactor({ fields: { 'records.*.email': 'hash' }, hashKey: `${KEY}!` }).apply({
      records: [{ email: 'alice@example.com' }],
    });
    expect((other.records as { email: string }[])[0]!.email).not.toBe(hmac('alice@example.com'));
  });

  it('hashes values that are not strings from their canonical JSON', () => {
    const redactor = createRedactor({ fields: { 'parameters.*': 'hash', 'inputs.*': 'hash' }, hashKey: KEY });
    const out = redactor.apply({
      inputs: { amount: [[12.5], [99]], id: [5n, 6n] },
      parameters: { a: { z: 1, y: [true, null, 'é'] }, b: 7, c: 7n },
    });
    expect(out.inputs).toEqual({ amount: hmac('[[12.5],[99]]'), id: hmac('[5,6]') });
    // Keys sorted, no spaces; a bigint hashes like the same number.
    expect(out.parameters).toEqual({ a: hmac('{"y":[true,null,"é"],"z":1}'), b: hmac('7'), c: hmac('7') });
    // Key order does not change the hash.
    const swapped = redactor.apply({ parameters: { a: { y: [true, null, 'é'], z: 1 } } });
    expect((swapped.parameters as { a: string }).a).toBe(hmac('{"y":[true,null,"é"],"z":1}'));
  });

  it('truncates strings by code points and arrays by elements, leaving numbers whole', () => {
    const redactor = createRedactor({
      fields: {
        'records.*.email': { truncate: 3 },
        'inputs.*': { truncate: 1 },
        parameters: { truncate: 2 },
      },
    });
    const out = redactor.apply({
      inputs: {
        emoji: ['😀😁😂'],
        amount: [
          [12.5, 13],
          [99, 100],
        ],
        f: new Float32Array([1, 2, 3]),
      },
      records: [{ email: '😀é日本語' }],
      parameters: { threshold: 123456789, name: 'abcdef', flag: true },
    });
    // One code point, not one UTF-16 unit (which would split the surrogate pair).
    expect(out.inputs).toEqual({ emoji: ['😀'], amount: [[12.5]], f: new Float32Array([1]) });
    expect(out.records).toEqual([{ email: '😀é日' }]);
    expect(out.parameters).toEqual({ threshold: 123456789, name: 'ab', flag: true });
    expect(createRedactor({ default: { truncate: 0 } }).apply({ inputs: { s: 'abc', a: [1] } })).toEqual({
      inputs: { s: '', a: [] },
    });
  });

  it("matches '*' against exactly one segment", () => {
    const redactor = createRedactor({ fields: { 'inputs.*': 'keep' } });
    expect(redactor.apply({ inputs: { a: [1], b: [2] }, outputs: { y: [3] } })).toEqual({
      inputs: { a: [1], b: [2] },
    });
    // '*.*' does not reach a third level on its own; '*' as a first segment is any payload field.
    const deep = createRedactor({ fields: { '*.a.*': 'keep' } });
    expect(deep.apply({ inputs: { a: { x: 1, y: 2 }, b: { x: 3 } }, outputs: { a: { z: 4 } } })).toEqual({
      inputs: { a: { x: 1, y: 2 } },
      outputs: { a: { z: 4 } },
    });
    // Over an array, '*' is each index; dropped items stay as null so rows keep their positions.
    const rows = createRedactor({ fields: { 'records.0.country': 'keep' } }).apply(record);
    expect(rows.records).toEqual([{ country: 'FR' }, null]);
    // A deeper rule reaches inside a dropped item.
    const inside = createRedactor({ fields: { 'records.*.country': 'keep', 'records.1': 'drop' } }).apply(
      record,
    );
    expect(inside.records).toEqual([{ country: 'FR' }, { country: 'DE' }]);
  });

  it('lets the most specific rule win', () => {
    const redactor = createRedactor({
      default: 'keep',
      fields: {
        inputs: 'drop',
        'inputs.amount': 'keep',
        'inputs.amount.1': 'hash',
        'records.*.email': 'drop',
        'records.0.*': 'hash',
        '*.*.email': 'keep',
      },
      hashKey: KEY,
    });
    const out = redactor.apply(record);
    // Deeper beats shallower: inputs dropped, inputs.amount kept, inputs.amount.1 hashed.
    expect(out.inputs).toEqual({ amount: [[12.5], hmac('[99]')] });
    // Same depth: a name beats '*' at the leftmost segment where they differ.
    // records.0.email: 'records.*.email' (literal 3rd) vs 'records.0.*' (literal 2nd) → records.0.* wins.
    expect(out.records).toEqual([
      { email: hmac('alice@example.com'), country: hmac('FR') },
      { country: 'DE' },
    ]);
    // The order rules are written in does not matter.
    const reversed = createRedactor({
      default: 'keep',
      fields: Object.fromEntries(
        Object.entries({
          inputs: 'drop',
          'inputs.amount': 'keep',
          'inputs.amount.1': 'hash',
          'records.*.email': 'drop',
          'records.0.*': 'hash',
          '*.*.email': 'keep',
        }).reverse(),
      ) as LogPolicy['fields'],
      hashKey: KEY,
    });
    expect(reversed.apply(record)).toEqual(out);
  });

  it('addresses the tensors of an OIP list by name', () => {
    const oip = {
      id: 'r1',
      inputs: [
        { name: 'amount', datatype: 'FP32', shape: [2], data: [12.5, 99] },
        { name: 'email', datatype: 'BYTES', shape: [2], data: ['a@b.c', 'd@e.f'] },
      ],
    };
    const out = createRedactor({
      fields: { 'inputs.amount': 'keep', 'inputs.email.*': 'hash' },
      hashKey: KEY,
    }).apply(oip);
    expect(out).toEqual({
      id: 'r1',
      inputs: [
        { name: 'amount', datatype: 'FP32', shape: [2], data: [12.5, 99] },
        { name: 'email', datatype: 'BYTES', shape: [2], data: [hmac('a@b.c'), hmac('d@e.f')] },
      ],
    });
    // A dropped tensor keeps its name, type and shape but not its data.
    const dropped = createRedactor({ fields: { 'inputs.amount': 'keep' } }).apply(oip);
    expect(dropped.inputs).toEqual([oip.inputs[0], { name: 'email', datatype: 'BYTES', shape: [2] }]);
  });

  it('escapes dots and stars in names with a backslash', () => {
    const out = createRedactor({ fields: { 'inputs.input\\.1': 'keep', 'inputs.\\*': 'keep' } }).apply({
      inputs: { 'input.1': [1], input: { 1: [2] }, '*': [3], other: [4] },
    });
    expect(out).toEqual({ inputs: { 'input.1': [1], '*': [3] } });
  });

  it('never changes its argument', () => {
    const copy = structuredClone(record);
    const redactor = createRedactor({
      fields: { 'records.*.email': 'hash', 'inputs.amount': { truncate: 1 }, 'outputs.label': 'keep' },
      hashKey: KEY,
    });
    const out = redactor.apply(record);
    expect(record).toEqual(copy);
    expect(out.inputs).toEqual({ amount: [[12.5]] });
    expect(Object.isFrozen(record)).toBe(false);
    // A frozen record works too (nothing is written into it).
    expect(redactor.apply(Object.freeze({ ...record })).outputs).toEqual({ label: [1, 0] });
  });

  it('refuses a cyclic record with a typed error rather than overflowing the stack', () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    const redactor = createRedactor({ default: 'hash', hashKey: KEY });
    expect(() => redactor.apply({ inputs: a })).toThrow(/cycles/);
  });

  it('refuses a bad policy when it is created, with typed errors', () => {
    expect(invalid({ default: 'hash' }).message).toMatch(/needs a hashKey/);
    expect(invalid({ fields: { 'inputs.email': 'hash' } }).message).toMatch(/needs a hashKey/);
    expect(invalid({ fields: { 'inputs.email': 'redact' } }).message).toMatch(
      /fields\["inputs.email"\] must be 'keep', 'drop', 'hash' or \{ truncate: n \}, received "redact"/,
    );
    expect(invalid({ default: 'KEEP' }).message).toMatch(/default must be/);
    expect(invalid({ fields: { inputs: { truncate: -1 } } }).message).toMatch(
      /truncate must be a non-negative integer, received -1/,
    );
    expect(invalid({ fields: { inputs: { truncate: 1.5 } } }).message).toMatch(/non-negative integer/);
    expect(invalid({ fields: { inputs: { truncate: '3' } } }).message).toMatch(/non-negative integer/);
    expect(invalid({ fields: { inputs: { truncate: 3, extra: 1 } } }).message).toMatch(/must be 'keep'/);
    expect(invalid({ fields: { 'input.amount': 'keep' } }).message).toMatch(/starts with a payload field/);
    expect(invalid({ fields: { model: 'drop' } }).message).toMatch(/metadata is always kept/);
    expect(invalid({ fields: { 'inputs..a': 'keep' } }).message).toMatch(/non-empty/);
    expect(invalid({ fields: { '': 'keep' } }).message).toMatch(/must not be empty/);
    expect(invalid({ fields: { 'inputs.em*': 'keep' } }).message).toMatch(/whole segment/);
    expect(invalid({ fields: { 'inputs.a\\': 'keep' } }).message).toMatch(/unfinished/);
    expect(invalid({ fields: [] }).message).toMatch(/fields must be an object/);
    expect(invalid({ feilds: {} }).message).toMatch(/unknown field "feilds"/);
    expect(invalid('keep').message).toMatch(/policy must be an object/);
    expect(invalid({ default: 'hash', hashKey: 42 }).message).toMatch(
      /hashKey must be a Uint8Array or a string/,
    );
    // A short key is refused without quoting it.
    const short = invalid({ default: 'hash', hashKey: 'hunter2' });
    expect(short.message).toMatch(/at least 16 bytes.*received a key of 7 bytes/);
    expect(short.message).not.toContain('hunter2');
  });

  it('copies the key, so changing the caller’s array later changes nothing', () => {
    const key = text(KEY);
    const redactor = createRedactor({ default: 'hash', hashKey: key });
    key.fill(0);
    expect(redactor.apply({ inputs: 'x' }).inputs).toBe(hmac('x'));
  });

  it('never changes its argument; without a policy drops all payload; default keep gives the record back (property)', () => {
    const segment = fc.constantFrom('inputs', 'outputs', 'records', 'parameters', 'a', 'b', '0', '1', '*');
    const action = fc.oneof(
      fc.constantFrom('keep', 'drop', 'hash'),
      fc.record({ truncate: fc.nat(4) }),
    ) as fc.Arbitrary<FieldPolicy>;
    const rules = fc.dictionary(
      fc
        .tuple(
          fc.constantFrom('inputs', 'outputs', 'records', 'parameters', '*'),
          fc.array(segment, { maxLength: 3 }),
        )
        .map(([first, rest]) => [first, ...rest].join('.')),
      action,
      { maxKeys: 5 },
    );
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc.string(),
        fc.double({ noNaN: true }),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('node'), { maxLength: 3 }),
        fc.dictionary(fc.constantFrom('a', 'b', 'email'), tie('node'), { maxKeys: 3 }),
      ),
    })).node;
    const record = fc.record(
      { model: fc.string(), inputs: value, outputs: value, records: value, parameters: value },
      { requiredKeys: ['model'] },
    );
    fc.assert(
      fc.property(rules, record, (fields, rec) => {
        const before = structuredClone(rec);
        const out = createRedactor({ fields, hashKey: KEY }).apply(rec);
        expect(rec).toEqual(before);
        expect(out.model).toBe(rec.model);
        // With no rules, nothing of the payload is left.
        const bare = createRedactor().apply(rec);
        expect(Object.keys(bare)).toEqual(['model']);
        // Keeping everything gives the record back.
        expect(createRedactor({ default: 'keep' }).apply(rec)).toEqual(rec);
      }),
      { numRuns: 300 },
    );
  });
});
