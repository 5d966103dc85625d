import { defineProject } from 'vitest/config'

export default defineProject({
  ssr: { resolve: { conditions: ['@org/source'] } },
  resolve: { conditions: ['@org/source'] },
  // The demo is run as a person runs it: a child process that starts its own fleet and HAProxy.
  test: { name: 'example-local-fleet', include: ['test/**/*.test.ts'], testTimeout: 90_000 },
})
