import { defineConfig } from 'vitest/config'

// `npm run test:failover`: tests that kill brokers, on a 3-node local cluster.
export default defineConfig({
  test: {
    include: ['test/failover/**/*.test.ts'],
    globalSetup: ['test/failover/global-setup.ts'],
    // drops kafkajs's TimeoutNegativeWarning in the test processes
    setupFiles: ['test/support/quiet-warnings.ts'],
    testTimeout: 180_000,
    hookTimeout: 240_000,
    maxWorkers: 1,
  },
})
