import type { BatchPredictor, MatrixBuffer, Table } from './batches';

/** What the blocks read of a coalition plan (coalitions.ts's `CoalitionPlan` has it): its masks, and its row. */
export interface BlockPlan {
  masks: Uint8Array;
  count: number;
  game: { rows: Table; r: number; varying: readonly number[] };
}

/** What one call buffer holds between calls: per block, the plan whose row its columns hold (−1: none) and which columns hold it. */
interface BlockState {
  plan: Int32Array;
  held: Uint8Array;
}

/**
 * The matrix fast path of `CoalitionValues.values`: each coalition is a block of the
 * background's rows in a call's float buffer. A buffer keeps its blocks between calls, and each
 * block position is given coalitions in Gray-code order of their masks, so that going from one
 * to the next rewrites only the few columns that change (each a strided write of nb values)
 * instead of the whole block. Calls carry whole blocks.
 *
 * A class with typed-array fields rather than closures over the caller's variables, so the
 * per-row loops read locals (a small gain, measured in docs/performance.md, "Explaining").
 */
export class CoalitionBlocks {
  private readonly k: number;
  private readonly nb: number;
  private readonly perCall: number;
  private readonly callCount: number;
  /** Sorted coalition s goes to call s mod callCount, block s div callCount: a block position sees consecutive coalitions of the sorted order. */
  private readonly order: Uint32Array;
  /** Per plan: its masks, its row's values and where they start, its varying players' columns flat (player q's are list[start[q]…start[q+1])). */
  private readonly masks: Uint8Array[];
  private readonly x: ArrayLike<number>[];
  private readonly xAt: Int32Array;
  private readonly start: Int32Array[];
  private readonly list: Int32Array[];
  private readonly states = new Map<MatrixBuffer, BlockState>();
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
    this.order = grayOrder(plans, total);
    this.masks = plans.map((p) => p.masks);
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

  /** The buffer's state, made (every block the background) the first time it is seen. */
  private stateOf(buffer: MatrixBuffer): BlockState {
    let state = this.states.get(buffer);
    if (state !== undefined) return state;
    const { k, nb } = this;
    this.bg ??=
      buffer instanceof Float32Array ? Float32Array.from(this.bgMatrix) : Float64Array.from(this.bgMatrix);
    const room = Math.min(this.perCall, Math.floor(buffer.length / (nb * k)));
    state = { plan: new Int32Array(room).fill(-1), held: new Uint8Array(room * k) };
    for (let p = 0; p < room; p++) buffer.set(this.bg, p * nb * k);
    this.states.set(buffer, state);
    return state;
  }

  /** Writes call `call`'s `blocks` coalitions, rewriting only the columns that differ from what each block holds. */
  private write(buffer: MatrixBuffer, call: number, blocks: number): void {
    const state = this.stateOf(buffer);
    const { k, nb, callCount, order, owner, local } = this;
    const bg = this.bg!;
    const held = state.held;
    for (let p = 0; p < blocks; p++) {
      const c = order[p * callCount + call]!;
      const j = owner[c]!;
      const samePlan = state.plan[p] === j;
      state.plan[p] = j;
      const masks = this.masks[j]!;
      const x = this.x[j]!;
      const xAt = this.xAt[j]!;
      const start = this.start[j]!;
      const list = this.list[j]!;
      const m = start.length - 1;
      const maskAt = local[c]! * m;
      const at = p * nb * k;
      const has = p * k;
      // only varying players' columns ever hold the row's values
      for (let q = 0; q < m; q++) {
        const want = masks[maskAt + q]!;
        for (let e = start[q]!; e < start[q + 1]!; e++) {
          const col = list[e]!;
          if (want === 1) {
            if (held[has + col] === 1 && samePlan) continue;
            fillColumn(buffer, at + col, k, nb, x[xAt + col]!);
          } else {
            if (held[has + col] === 0) continue;
            copyColumn(buffer, at + col, bg, col, k, nb);
          }
          held[has + col] = want;
        }
      }
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

/**
 * The stream's coalitions (plan after plan) with each plan's sorted by the Gray-code rank of
 * their mask (for masks of up to 30 players; more keep their order), so neighbours differ in few
 * players.
 */
function grayOrder(plans: readonly BlockPlan[], total: number): Uint32Array {
  const order = new Uint32Array(total);
  let start = 0;
  for (const plan of plans) {
    const m = plan.game.varying.length;
    const count = plan.count;
    if (m > 30 || count >= 2 ** 22) {
      for (let k = 0; k < count; k++) order[start + k] = start + k;
    } else {
      // rank · 2^22 + index stays an exact integer, so a plain numeric sort orders by rank
      const key = new Float64Array(count);
      for (let k = 0; k < count; k++) {
        let rank = 0;
        let bit = 0;
        const at = k * m;
        // inverse Gray code: bit q of the rank is the xor of mask bits q…m−1
        for (let q = m - 1; q >= 0; q--) {
          bit ^= plan.masks[at + q]!;
          rank = rank * 2 + bit;
        }
        key[k] = rank * 2 ** 22 + k;
      }
      key.sort();
      for (let k = 0; k < count; k++) order[start + k] = start + (key[k]! % 2 ** 22);
    }
    start += count;
  }
  return order;
}
