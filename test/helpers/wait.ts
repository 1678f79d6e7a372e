/**
 * The one polling helper of the tests: polls `probe` until it returns a value other than
 * undefined/false, and returns it. Gives up after `timeoutMs` (a bound so a broken build fails
 * instead of hanging, never an assertion on speed: see test/README.md "Under load").
 * No imports, so unit tests beside their source can use it without loading the server.
 */
export async function waitFor<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
