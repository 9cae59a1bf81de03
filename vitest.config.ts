import { defineConfig } from 'vitest/config';

// .ci/run sets TN_VITEST_JSON to read the pass/fail counts from vitest's JSON reporter.
const jsonFile = process.env.TN_VITEST_JSON;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    reporters: jsonFile ? ['default', 'json'] : ['default'],
    outputFile: jsonFile ? { json: jsonFile } : undefined,
  },
});
