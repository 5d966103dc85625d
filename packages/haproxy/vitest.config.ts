import { defineProject } from 'vitest/config'

export default defineProject({
  ssr: { resolve: { conditions: ['@org/source'] } },
  resolve: { conditions: ['@org/source'] },
  // Each file starts its own HAProxy and backends on loopback; files run in parallel.
  test: { name: 'haproxy', include: ['test/**/*.test.ts'], testTimeout: 20_000, hookTimeout: 20_000 },
})
