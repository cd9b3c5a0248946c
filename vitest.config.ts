import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.{ts,tsx}'],
    // test/failover needs a 3-broker cluster: npm run test:failover (vitest.failover.config.ts)
    exclude: ['test/failover/**', '**/node_modules/**'],
    globalSetup: ['test/support/global-setup.ts'],
    // closes the Kafka sessions each test file opened (testSession)
    setupFiles: ['test/support/quiet-warnings.ts', 'test/support/sessions.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests share one local broker; two workers match the CI machines' two cores.
    maxWorkers: 2,
  },
})
