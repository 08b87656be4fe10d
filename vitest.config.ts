import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['runtime/test/**/*.test.ts', 'test/**/*.test.ts', 'bench/test/**/*.test.ts'],
    // The fixture apps' own tests run in their apps, with their own runners (existing-apps.test.ts).
    exclude: ['**/node_modules/**', 'test/fixtures/**'],
    globalSetup: ['runtime/test/support/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
