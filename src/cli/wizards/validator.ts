/**
 * Prompt answers are checked by the same functions as flags: a thrown error becomes the reason
 * shown under the prompt.
 */
export function validator(check: (value: string) => unknown): (value: string) => Promise<string | true> {
  return async (value) => {
    try {
      await check(value);
      return true;
    } catch (error) {
      return (error as Error).message;
    }
  };
}
