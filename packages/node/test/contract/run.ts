/** Runs every case of the handler contract through one front. */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type ContractAnswer, contractCases, expectAnswer, type Front, type FrontName } from './cases';
import { torchServeCases } from './torchserve-cases';

/**
 * Starts a front once and sends it every case; a case the front answers otherwise (its
 * `differs`) is checked against that answer instead. The front is closed even when a case fails.
 */
export function runContract(name: FrontName, start: () => Promise<Front>): void {
  describe(`handler contract: ${name}`, () => {
    let front: Front | undefined;
    beforeAll(async () => {
      front = await start();
    }, 120_000);
    afterAll(() => front?.close());

    for (const c of [...contractCases, ...torchServeCases]) {
      const differs = c.differs?.[name];
      it(differs === undefined ? c.name : `${c.name} (differs here: ${differs.why})`, async () => {
        const request = typeof c.request === 'function' ? await c.request() : c.request;
        const answer: ContractAnswer = await front!.send(request);
        if (differs !== undefined) expectAnswer(answer, differs.expect);
        else if (typeof c.expect === 'function') await c.expect(answer, front!);
        else expectAnswer(answer, c.expect);
      });
    }
  });
}
