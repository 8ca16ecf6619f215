import type { BatchPredictor, MatrixBuffer, Table } from './batches';

/** What the blocks read of a coalition plan (coalitions.ts's `CoalitionPlan` has it): its masks, and its row. */
export interface BlockPlan {
  masks: Uint8Array;
  count: number;
  game: { rows: Table; r: number; varying: readonly number[] };
}

/**
 * The matrix fast path of `CoalitionValues.values`: each coalition is a block of the
 * background's rows in a call's float buffer. A buffer keeps its blocks between calls, and each
 * block position is given coalitions in Gray-code order of their masks, so that going from one
 * to the next rewrites only the columns of the players that change (each a strided write of nb
 * values) instead of the whole block. Calls carry whole blocks.
 *
 * A block remembers the coalition it holds; up to 30 players a coalition's mask is also kept as
 * the bits of one integer, so the players that change are the set bits of two masks' xor
 * instead of a test of every player (the test of every column showed as a third of the writing,
 * docs/performance.md, "Explaining"). A class with typed-array fields rather than closures over
 * the caller's variables, so the per-row loops read locals.
 */
export class CoalitionBlocks {
  private readonly k: number;
  private readonly nb: number;
  private readonly perCall: number;
  private readonly callCount: number;
  /** Sorted coalition s goes to call s mod callCount, block s div callCount: a block position sees consecutive coalitions of the sorted order. */
  private readonly order: Uint32Array;
  /** Per coalition of the stream: its mask's bits as an integer (bit q: player q of its plan), for plans of at most 30 players. */
  private readonly keys: Int32Array;
  /** Per plan: its masks, its player count, whether its coalitions have keys, its row's values and where they start, its varying players' columns flat (player q's are list[start[q]…start[q+1])). */
  private readonly masks: Uint8Array[];
  private readonly m: Int32Array;
  private readonly keyed: Uint8Array;
  private readonly x: ArrayLike<number>[];
  private readonly xAt: Int32Array;
  private readonly start: Int32Array[];
  private readonly list: Int32Array[];
  /** Per call buffer: the coalition each block holds (−1: the background's rows unchanged). */
  private readonly states = new Map<MatrixBuffer, Int32Array>();
  private bg: MatrixBuffer | undefined;

  constructor(
    private readonly predictor: BatchPredictor,
    plans: readonly BlockPlan[],
    members: readonly (readonly number[])[],
    k: number,
    private readonly bgMatrix: ArrayLike<number>,
    private readonly weights: Float64Array,
    private readonly uniform: boolean,
    private readonly total: number,
    /** For every coalition in the stream: its plan and its index within the plan. */
    private readonly owner: Int32Array,
    private readonly local: Int32Array,
    /** Per plan, one mean prediction per coalition (written by the reads). */
    private readonly sums: Float64Array[],
  ) {
    this.k = k;
    this.nb = weights.length;
    this.perCall = Math.floor(predictor.batchSize / this.nb);
    this.callCount = Math.ceil(total / this.perCall);
    this.masks = plans.map((p) => p.masks);
    this.m = Int32Array.from(plans, (p) => p.game.varying.length);
    this.keyed = Uint8Array.from(plans, (p) => (p.game.varying.length <= MAX_KEYED ? 1 : 0));
    this.keys = maskKeys(plans, total);
    this.order = grayOrder(plans, this.keys, total);
    this.x = plans.map((p) => p.game.rows.matrix!);
    this.xAt = Int32Array.from(plans, (p) => p.game.r * k);
    this.start = [];
    this.list = [];
    for (const plan of plans) {
      const cols = plan.game.varying.map((player) => members[player]!);
      const start = new Int32Array(cols.length + 1);
      cols.forEach((c, q) => {
        start[q + 1] = start[q]! + c.length;
      });
      this.start.push(start);
      this.list.push(Int32Array.from(cols.flat()));
    }
  }

  /** Values every coalition: one call per group of blocks, rows written and outputs averaged in place. */
  async run(): Promise<void> {
    const calls: number[] = [];
    for (let t = 0; t < this.callCount; t++)
      calls.push(Math.ceil((this.total - t) / this.callCount) * this.nb);
    await this.predictor.runMatrix(
      calls,
      (buffer, call, _first, n) => this.write(buffer, call, n / this.nb),
      (data, width, column, call, _first, n) => this.read(data, width, column, call, n / this.nb),
    );
  }

  /** What each block of the buffer holds, made (every block the background) the first time it is seen. */
  private stateOf(buffer: MatrixBuffer): Int32Array {
    let held = this.states.get(buffer);
    if (held !== undefined) return held;
    const { k, nb } = this;
    this.bg ??=
      buffer instanceof Float32Array ? Float32Array.from(this.bgMatrix) : Float64Array.from(this.bgMatrix);
    const room = Math.min(this.perCall, Math.floor(buffer.length / (nb * k)));
    held = new Int32Array(room).fill(-1);
    for (let p = 0; p < room; p++) buffer.set(this.bg, p * nb * k);
    this.states.set(buffer, held);
    return held;
  }

  /** Writes call `call`'s `blocks` coalitions, rewriting only the players' columns that differ from what each block holds. */
  private write(buffer: MatrixBuffer, call: number, blocks: number): void {
    const held = this.stateOf(buffer);
    const { k, nb, callCount, order, owner } = this;
    for (let p = 0; p < blocks; p++) {
      const c = order[p * callCount + call]!;
      const at = p * nb * k;
      let was = held[p]!;
      // another row's coalition: back to the background first (its players are not this row's)
      if (was >= 0 && owner[was] !== owner[c]) {
        this.change(buffer, at, owner[was]!, was, -1);
        was = -1;
      }
      this.change(buffer, at, owner[c]!, was, c);
      held[p] = c;
    }
  }

  /**
   * Takes the block at `at` from coalition `from` to coalition `to` of plan `j` (−1: the empty
   * coalition, the background's rows): each player in one and not the other gets its columns
   * from the plan's row (when in `to`) or from the background.
   */
  private change(buffer: MatrixBuffer, at: number, j: number, from: number, to: number): void {
    const x = this.x[j]!;
    const xAt = this.xAt[j]!;
    const start = this.start[j]!;
    const list = this.list[j]!;
    if (this.keyed[j] === 1) {
      const want = to < 0 ? 0 : this.keys[to]!;
      let diff = (from < 0 ? 0 : this.keys[from]!) ^ want;
      while (diff !== 0) {
        const q = 31 - Math.clz32(diff);
        diff ^= 1 << q;
        this.player(buffer, at, x, xAt, start, list, q, (want >>> q) & 1);
      }
      return;
    }
    const m = this.m[j]!;
    const masks = this.masks[j]!;
    const fromAt = from < 0 ? -1 : this.local[from]! * m;
    const toAt = to < 0 ? -1 : this.local[to]! * m;
    for (let q = 0; q < m; q++) {
      const want = toAt < 0 ? 0 : masks[toAt + q]!;
      const had = fromAt < 0 ? 0 : masks[fromAt + q]!;
      if (want !== had) this.player(buffer, at, x, xAt, start, list, q, want);
    }
  }

  /** Player q's columns in the block at `at`: the row's value (`fromRow` 1) or the background's. */
  private player(
    buffer: MatrixBuffer,
    at: number,
    x: ArrayLike<number>,
    xAt: number,
    start: Int32Array,
    list: Int32Array,
    q: number,
    fromRow: number,
  ): void {
    const { k, nb } = this;
    for (let e = start[q]!; e < start[q + 1]!; e++) {
      const col = list[e]!;
      if (fromRow === 1) fillColumn(buffer, at + col, k, nb, x[xAt + col]!);
      else copyColumn(buffer, at + col, this.bg!, col, k, nb);
    }
  }

  /** Each of call `call`'s `blocks` coalitions: the (weighted) mean of its nb outputs. */
  private read(data: ArrayLike<number>, width: number, column: number, call: number, blocks: number): void {
    const { nb, callCount, order, owner, local, sums, weights, uniform } = this;
    for (let p = 0; p < blocks; p++) {
      const c = order[p * callCount + call]!;
      const o = p * nb * width + column;
      sums[owner[c]!]![local[c]!] = uniform
        ? meanOf(data, o, width, nb)
        : weightedSum(data, o, width, weights);
    }
  }
}

function fillColumn(buffer: MatrixBuffer, from: number, stride: number, count: number, value: number): void {
  for (let i = 0, o = from; i < count; i++, o += stride) buffer[o] = value;
}

function copyColumn(
  buffer: MatrixBuffer,
  from: number,
  source: MatrixBuffer,
  col: number,
  stride: number,
  count: number,
): void {
  for (let i = 0, o = from, b = col; i < count; i++, o += stride, b += stride) buffer[o] = source[b]!;
}

function meanOf(data: ArrayLike<number>, from: number, stride: number, count: number): number {
  let s = 0;
  for (let i = 0; i < count; i++) s += data[from + i * stride]!;
  return s / count;
}

function weightedSum(data: ArrayLike<number>, from: number, stride: number, weights: Float64Array): number {
  let s = 0;
  for (let i = 0; i < weights.length; i++) s += weights[i]! * data[from + i * stride]!;
  return s;
}

/** Plans of at most this many players give each coalition an integer key (bit q: player q). */
const MAX_KEYED = 30;
/** Up to this many players Gray order is a counting sort over every possible rank. */
const MAX_COUNTED = 16;

/** Each coalition's mask as the bits of an integer, for plans of at most {@link MAX_KEYED} players (others get 0, unused). */
function maskKeys(plans: readonly BlockPlan[], total: number): Int32Array {
  const keys = new Int32Array(total);
  let c = 0;
  for (const plan of plans) {
    const m = plan.game.varying.length;
    if (m > MAX_KEYED) {
      c += plan.count;
      continue;
    }
    const masks = plan.masks;
    for (let i = 0; i < plan.count; i++, c++) {
      let key = 0;
      const at = i * m;
      for (let q = 0; q < m; q++) key |= masks[at + q]! << q;
      keys[c] = key;
    }
  }
  return keys;
}

/**
 * The stream's coalitions (plan after plan) with each plan's sorted by the Gray-code rank of
 * their mask, ties in stream order (for masks of up to 30 players; more keep their order), so
 * neighbours differ in few players. The rank's bit q is the xor of the mask's bits q…m−1 (the
 * inverse Gray code). Up to 16 players a counting sort over the 2^m ranks; above, a numeric
 * sort of rank · 2^22 + index (an exact integer).
 */
function grayOrder(plans: readonly BlockPlan[], keys: Int32Array, total: number): Uint32Array {
  const order = new Uint32Array(total);
  let start = 0;
  for (const plan of plans) {
    const m = plan.game.varying.length;
    const count = plan.count;
    if (m > MAX_KEYED || count >= 2 ** 22) {
      for (let i = 0; i < count; i++) order[start + i] = start + i;
    } else if (m <= MAX_COUNTED) {
      const rank = new Int32Array(count);
      const firstOf = new Int32Array(2 ** m + 1);
      for (let i = 0; i < count; i++) {
        const r = inverseGray(keys[start + i]!);
        rank[i] = r;
        firstOf[r + 1]!++;
      }
      for (let r = 0; r < 2 ** m; r++) firstOf[r + 1]! += firstOf[r]!;
      for (let i = 0; i < count; i++) order[start + firstOf[rank[i]!]!++] = start + i;
    } else {
      const key = new Float64Array(count);
      for (let i = 0; i < count; i++) key[i] = inverseGray(keys[start + i]!) * 2 ** 22 + i;
      key.sort();
      for (let i = 0; i < count; i++) order[start + i] = start + (key[i]! % 2 ** 22);
    }
    start += count;
  }
  return order;
}

/** The rank whose Gray code is `g` (g < 2^31): each bit the xor of itself and every higher bit. */
function inverseGray(g: number): number {
  let r = g;
  r ^= r >>> 1;
  r ^= r >>> 2;
  r ^= r >>> 4;
  r ^= r >>> 8;
  r ^= r >>> 16;
  return r;
}
