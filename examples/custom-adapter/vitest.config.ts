import { defineProject } from 'vitest/config'

export default defineProject({
  ssr: { resolve: { conditions: ['@org/source'] } },
  resolve: { conditions: ['@org/source'] },
  // Each file starts its own tinylb and backends on loopback (free ports), so files may run in parallel.
  test: { name: 'example-custom-adapter', include: ['test/**/*.test.ts'], testTimeout: 20_000, hookTimeout: 20_000 },
})
