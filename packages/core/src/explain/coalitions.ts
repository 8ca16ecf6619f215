import { invalidArgument } from '../errors';
import type { Row } from '../evaluate/types';
import type { BatchPredictor } from './batches';
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

/**
 * The interventional value function of one model over one background: v(S) for a row x is
 * link(mean over background rows b of f(x on the players in S, b elsewhere)). Coalitions are
 * masks over the row's varying players (a `Uint8Array` of `count × m` zeros and ones); every
 * coalition's background rows go through the model in as few calls as the batch size allows.
 */
export class CoalitionValues {
  private readonly columns: readonly string[];

  constructor(
    private readonly predictor: BatchPredictor,
    private readonly players: Players,
    private readonly background: readonly Row[],
    private readonly link: Link,
  ) {
    this.columns = players.columns;
  }

  /** link(mean prediction over the background): v of the empty coalition. */
  async base(): Promise<number> {
    let sum = 0;
    const bg = this.background;
    const cols = this.columns;
    await this.predictor.run(
      bg.length,
      (row, i) => {
        for (const c of cols) row[c] = bg[i]![c];
      },
      (_i, v) => {
        sum += v;
      },
    );
    return this.link(sum / bg.length);
  }

  /** link(f(x)) of each row: v of the full coalition. */
  async predictions(rows: readonly Row[]): Promise<number[]> {
    const out = new Array<number>(rows.length);
    const cols = this.columns;
    await this.predictor.run(
      rows.length,
      (row, i) => {
        for (const c of cols) row[c] = rows[i]![c];
      },
      (i, v) => {
        out[i] = v;
      },
    );
    return out.map(this.link);
  }

  /** The players whose value in `x` differs from some background row's: the others cannot change v. */
  varying(x: Row): number[] {
    const out: number[] = [];
    this.players.members.forEach((cols, p) => {
      const varies = this.background.some((b) =>
        cols.some((c) => !sameValue(x[this.columns[c]!], b[this.columns[c]!])),
      );
      if (varies) out.push(p);
    });
    return out;
  }

  /** v of `count` coalitions over the players `varying` (mask bit q switches player varying[q] to x). */
  async values(x: Row, varying: readonly number[], masks: Uint8Array, count: number): Promise<Float64Array> {
    const m = varying.length;
    const bg = this.background;
    const nb = bg.length;
    const cols = this.columns;
    const members = varying.map((p) => this.players.members[p]!.map((c) => cols[c]!));
    const sums = new Float64Array(count);
    await this.predictor.run(
      count * nb,
      (row, i) => {
        const k = Math.floor(i / nb);
        const b = bg[i - k * nb]!;
        for (const c of cols) row[c] = b[c];
        for (let q = 0; q < m; q++) {
          if (masks[k * m + q] === 1) for (const c of members[q]!) row[c] = x[c];
        }
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
