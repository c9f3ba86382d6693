import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 600_000, // a limit against hangs, sized for a loaded shared machine (no timing assertions)
    hookTimeout: 1_200_000,
    pool: 'forks',
  },
});
