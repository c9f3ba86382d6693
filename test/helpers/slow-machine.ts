// Time limits for tests that spawn the CLI or record whole programs, sized for a loaded, shared 2-core
// machine. A limit only turns a hang into a failure; no test asserts how fast anything runs (speed is
// measured by `npm run bench`).

/** Limit for one spawned CLI process. */
export const SPAWN_TIMEOUT_MS = 10 * 60_000;
/** Limit for one test (or hook) that spawns several CLI processes or records programs. */
export const SLOW_TEST_MS = 20 * 60_000;
