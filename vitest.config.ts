import { defineConfig } from 'vitest/config';

// Three projects, run one after the other by scripts/test so each gets its own wall time:
// unit (pure code, in-memory fakes), integration (real servers on 127.0.0.1: registry, git, API),
// e2e (CLI → API → embedded engine → image → run).
export default defineConfig({
  test: {
    restoreMocks: true,
    clearMocks: true,
    // Builds are slow; a real hang is caught by the per-test timeout instead of vitest's 5 s default.
    testTimeout: 120_000,
    hookTimeout: 600_000,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/helpers/global-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/helpers/global-setup.ts'],
          fileParallelism: false,
        },
      },
    ],
  },
});
