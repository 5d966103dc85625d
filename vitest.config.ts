import { defineConfig } from 'vitest/config'

// One vitest run covers every package; sources are resolved through the
// `@org/source` export condition, so no build is needed before testing.
export default defineConfig({
  ssr: { resolve: { conditions: ['@org/source'] } },
  resolve: { conditions: ['@org/source'] },
  test: {
    projects: ['packages/*', 'examples/*/vitest.config.ts'],
    // One test file at a time across all packages: the end-to-end tests assert latency
    // and request rates on a 2-core machine, and a neighbour's CPU burst skews them.
    maxWorkers: 1,
  },
})
