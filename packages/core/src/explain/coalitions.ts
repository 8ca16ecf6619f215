import { invalidArgument } from '../errors';
import type { Row } from '../evaluate/types';
import type { BatchPredictor, Table } from './batches';
import { CoalitionBlocks } from './blocks';
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
      await new CoalitionBlocks(
        this.predictor,
        plans,
        this.players.members,
        this.players.columns.length,
        this.background.matrix!,
        this.weights,
        this.uniform,
        total,
        owner,
        local,
        sums,
      ).run();
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
}
