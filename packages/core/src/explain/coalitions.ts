import { invalidArgument } from '../errors';
import type { Row } from '../evaluate/types';
import type { BatchPredictor, MatrixBuffer, Table } from './batches';
import { type Players, sameValue } from './rows';

/** The link applied to mean predictions before they are attributed. */
export type Link = (p: number) => number;

export function linkOf(name: 'identity' | 'logit' | undefined, where: string): Link {
  if (name === undefined || name === 'identity') return (p) => p;
  if (name !== 'logit') throw invalidArgument(where, "link must be 'identity' or 'logit'", name);
  return (p) => {
    if (!(p > 0 && p < 1))
      throw invalidArgument(
        where,
        "link 'logit' needs predictions strictly between 0 and 1 (probabilities)",
        p,
      );
    return Math.log(p / (1 - p));
  };
}

/** One row's game: its varying players, v(∅) = base and v(all) = f(x), and how to value other coalitions. */
export interface RowGame {
  cv: CoalitionValues;
  /** The explained rows, and which of them this game is. */
  rows: Table;
  r: number;
  varying: readonly number[];
  base: number;
  fx: number;
}

/** The coalitions one row needs valued (`count` masks of m bytes), and how their values become its Shapley values. */
export interface CoalitionPlan {
  game: RowGame;
  masks: Uint8Array;
  count: number;
  finish(values: Float64Array): Float64Array;
}

/**
 * The interventional value function of one model over one background: v(S) for a row x is
 * link(weighted mean over background rows b of f(x on the players in S, b elsewhere)), the
 * weights summing to 1 (equal unless given). Coalitions are masks over the row's varying
 * players (a `Uint8Array` of `count × m` zeros and ones); every coalition's background rows go
 * through the model in as few calls as the batch size allows.
 */
export class CoalitionValues {
  private readonly background: Table;
  /** Each background row's weight; they sum to 1. */
  private readonly weights: Float64Array;
  /** Whether the weights are all equal (means are then plain sums over the count). */
  private readonly uniform: boolean;

  constructor(
    private readonly predictor: BatchPredictor,
    private readonly players: Players,
    background: readonly Row[],
    private readonly link: Link,
    weights?: Float64Array,
  ) {
    this.background = predictor.table(background);
    this.uniform = weights === undefined;
    this.weights = weights ?? new Float64Array(background.length).fill(1 / background.length);
  }

  /** link(weighted mean prediction over the background): v of the empty coalition. */
  async base(): Promise<number> {
    let sum = 0;
    const bg = this.background;
    const w = this.weights;
    await this.predictor.run(
      bg.rows.length,
      (writer, i) => writer.copy(bg, i),
      (i, v) => {
        sum += w[i]! * v;
      },
    );
    return this.link(sum);
  }

  /** The explained rows as a table, and link(f(x)) of each: v of the full coalition. */
  async predictions(rows: readonly Row[]): Promise<{ table: Table; predictions: number[] }> {
    const table = this.predictor.table(rows);
    const out = new Array<number>(rows.length);
    await this.predictor.run(
      rows.length,
      (w, i) => w.copy(table, i),
      (i, v) => {
        out[i] = v;
      },
    );
    return { table, predictions: out.map(this.link) };
  }

  /** The players whose value in `x` differs from some background row's: the others cannot change v. */
  varying(x: Row): number[] {
    const out: number[] = [];
    const names = this.players.columns;
    this.players.members.forEach((cols, p) => {
      const varies = this.background.rows.some((b) =>
        cols.some((c) => !sameValue(x[names[c]!], b[names[c]!])),
      );
      if (varies) out.push(p);
    });
    return out;
  }

  /**
   * Values the coalitions of several rows' plans in one stream of `predict` calls, so small
   * games share calls instead of each making a short one. Mask bit q of a plan switches player
   * varying[q] from the background to the plan's row.
   */
  async values(plans: readonly CoalitionPlan[]): Promise<Float64Array[]> {
    const nb = this.background.rows.length;
    const total = plans.reduce((n, p) => n + p.count, 0);
    // for every coalition in the stream: its plan and its index within the plan
    const owner = new Int32Array(total);
    const local = new Int32Array(total);
    let g = 0;
    plans.forEach((p, j) => {
      for (let k = 0; k < p.count; k++, g++) {
        owner[g] = j;
        local[g] = k;
      }
    });
    const members = plans.map((p) => p.game.varying.map((q) => this.players.members[q]!));
    // which columns coalition `c` takes from the row
    const fromRow = new Uint8Array(this.players.columns.length);
    const columnsOf = (c: number): void => {
      const plan = plans[owner[c]!]!;
      fromRow.fill(0);
      const m = plan.game.varying.length;
      const at = local[c]! * m;
      const cols = members[owner[c]!]!;
      for (let q = 0; q < m; q++) if (plan.masks[at + q] === 1) for (const col of cols[q]!) fromRow[col] = 1;
    };
    const sums = plans.map((p) => new Float64Array(p.count));
    const w = this.weights;
    if (this.predictor.writesMatrix && nb <= this.predictor.batchSize)
      await this.blocks(plans, total, owner, local, sums);
    else {
      const bg = this.background;
      let current = -1;
      await this.predictor.run(
        total * nb,
        (writer, i) => {
          const c = Math.floor(i / nb);
          const plan = plans[owner[c]!]!;
          if (c !== current) {
            current = c;
            columnsOf(c);
          }
          writer.mix(plan.game.rows, plan.game.r, bg, i - c * nb, fromRow);
        },
        (i, v) => {
          const c = Math.floor(i / nb);
          const s = sums[owner[c]!]!;
          s[local[c]!] = s[local[c]!]! + w[i - c * nb]! * v;
        },
      );
    }
    for (const s of sums) for (let k = 0; k < s.length; k++) s[k] = this.link(s[k]!);
    return sums;
  }

  /**
   * The matrix fast path of {@link values}: each coalition is a block of the background's rows
   * in a call's float buffer. A buffer keeps its blocks between calls, and each block position
   * is given coalitions in Gray-code order of their masks, so that going from one to the next
   * rewrites only the few columns that change (each a strided write of nb values) instead of
   * the whole block. Calls carry whole blocks.
   */
  private async blocks(
    plans: readonly CoalitionPlan[],
    total: number,
    owner: Int32Array,
    local: Int32Array,
    sums: Float64Array[],
  ): Promise<void> {
    const predictor = this.predictor;
    const k = this.players.columns.length;
    const nb = this.background.rows.length;
    const bgMatrix = this.background.matrix!;
    const w = this.weights;
    const uniform = this.uniform;
    const perCall = Math.floor(predictor.batchSize / nb);
    const callCount = Math.ceil(total / perCall);
    // sorted coalition s goes to call s mod callCount, block s div callCount: a block position
    // sees consecutive coalitions of the sorted order
    const order = grayOrder(plans, total);
    const calls: number[] = [];
    for (let t = 0; t < callCount; t++) calls.push(Math.ceil((total - t) / callCount) * nb);
    // per buffer: the plan whose row each block's row columns hold (−1: none yet, all background)
    // and which columns of each block hold that row's values
    const states = new Map<MatrixBuffer, { plan: Int32Array; cols: Uint8Array }>();
    // per plan, the columns of its varying players, flat: player q's are list[start[q]…start[q+1])
    const flat = plans.map((plan) => {
      const cols = plan.game.varying.map((player) => this.players.members[player]!);
      const start = new Int32Array(cols.length + 1);
      cols.forEach((c, q) => {
        start[q + 1] = start[q]! + c.length;
      });
      return { start, list: Int32Array.from(cols.flat()) };
    });
    let bg: MatrixBuffer | undefined;
    await predictor.runMatrix(
      calls,
      (buffer, call, _first, n) => {
        bg ??= buffer instanceof Float32Array ? Float32Array.from(bgMatrix) : Float64Array.from(bgMatrix);
        let state = states.get(buffer);
        if (state === undefined) {
          const room = Math.min(perCall, Math.floor(buffer.length / (nb * k)));
          state = { plan: new Int32Array(room).fill(-1), cols: new Uint8Array(room * k) };
          for (let p = 0; p < room; p++) buffer.set(bg, p * nb * k);
          states.set(buffer, state);
        }
        const blocks = n / nb;
        const held = state.cols;
        for (let p = 0; p < blocks; p++) {
          const c = order[p * callCount + call]!;
          const j = owner[c]!;
          const plan = plans[j]!;
          const x = plan.game.rows.matrix!;
          const xAt = plan.game.r * k;
          const samePlan = state.plan[p] === j;
          state.plan[p] = j;
          const at = p * nb * k;
          const has = p * k;
          const { start, list } = flat[j]!;
          const m = plan.game.varying.length;
          const maskAt = local[c]! * m;
          // only varying players' columns ever hold the row's values
          for (let q = 0; q < m; q++) {
            const want = plan.masks[maskAt + q]!;
            for (let e = start[q]!; e < start[q + 1]!; e++) {
              const col = list[e]!;
              if (want === 1) {
                if (held[has + col] === 1 && samePlan) continue;
                const v = x[xAt + col]!;
                for (let i = 0, o = at + col; i < nb; i++, o += k) buffer[o] = v;
              } else {
                if (held[has + col] === 0) continue;
                for (let i = 0, o = at + col, b = col; i < nb; i++, o += k, b += k) buffer[o] = bg[b]!;
              }
              held[has + col] = want;
            }
          }
        }
      },
      (data, width, column, call, _first, n) => {
        const blocks = n / nb;
        for (let p = 0; p < blocks; p++) {
          const c = order[p * callCount + call]!;
          let s = 0;
          const o = p * nb * width + column;
          if (uniform) {
            for (let i = 0; i < nb; i++) s += data[o + i * width]!;
            s /= nb;
          } else for (let i = 0; i < nb; i++) s += w[i]! * data[o + i * width]!;
          sums[owner[c]!]![local[c]!] = s;
        }
      },
    );
  }
}

/**
 * The stream's coalitions (plan after plan) with each plan's sorted by the Gray-code rank of
 * their mask (for masks of up to 30 players; more keep their order), so neighbours differ in few
 * players.
 */
function grayOrder(plans: readonly CoalitionPlan[], total: number): Uint32Array {
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
