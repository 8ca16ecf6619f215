/** The message of the assertion error `fn` throws (sync or async); fails when it throws none. */
export async function failure(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected the assertion to fail');
}
