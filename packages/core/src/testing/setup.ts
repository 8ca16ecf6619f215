/**
 * `import '@modelship/core/testing/setup'` registers Modelship's matchers on Vitest's `expect`,
 * in a test file or in `setupFiles`.
 */
import { expect } from 'vitest';
import { modelMatchers } from './matchers';

expect.extend(modelMatchers);

export type { ModelMatchers } from './index';
