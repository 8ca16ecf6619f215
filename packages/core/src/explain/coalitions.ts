import { invalidArgument } from '../errors';
import type { Row } from '../evaluate/types';
import type { BatchPredictor, Table } from './batches';
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

/**
 * The interventional value function of one model over one background: v(S) for a row x is
 * link(mean over background rows b of f(x on the players in S, b elsewhere)). Coalitions are
 * masks over the row's varying players (a `Uint8Array` of `count × m` zeros and ones); every
 * coalition's background rows go through the model in as few calls as the batch size allows.
 */
export class CoalitionValues {
  private readonly background: Table;

  constructor(
    private readonly predictor: BatchPredictor,
    private readonly players: Players,
    background: readonly Row[],
    private readonly link: Link,
  ) {
    this.background = predictor.table(background);
  }

  /** link(mean prediction over the background): v of the empty coalition. */
  async base(): Promise<number> {
    let sum = 0;
    const bg = this.background;
    await this.predictor.run(
      bg.rows.length,
      (w, i) => w.copy(bg, i),
      (_i, v) => {
        sum += v;
      },
    );
    return this.link(sum / bg.rows.length);
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
   * v of `count` coalitions of the game's row over its varying players (mask bit q switches
   * player varying[q] from the background to the row).
   */
  async values(game: RowGame, masks: Uint8Array, count: number): Promise<Float64Array> {
    const { rows, r, varying } = game;
    const m = varying.length;
    const bg = this.background;
    const nb = bg.rows.length;
    const members = varying.map((p) => this.players.members[p]!);
    // which columns coalition `current` takes from the row, remade when the coalition changes
    const fromRow = new Uint8Array(this.players.columns.length);
    let current = -1;
    const sums = new Float64Array(count);
    await this.predictor.run(
      count * nb,
      (w, i) => {
        const k = Math.floor(i / nb);
        if (k !== current) {
          current = k;
          fromRow.fill(0);
          for (let q = 0; q < m; q++) if (masks[k * m + q] === 1) for (const c of members[q]!) fromRow[c] = 1;
        }
        w.mix(rows, r, bg, i - k * nb, fromRow);
      },
      (i, v) => {
        const k = Math.floor(i / nb);
        sums[k] = sums[k]! + v;
      },
    );
    for (let k = 0; k < count; k++) sums[k] = this.link(sums[k]! / nb);
    return sums;
  }
}
