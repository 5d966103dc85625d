import { defineProject } from 'vitest/config'

export default defineProject({
  ssr: { resolve: { conditions: ['@org/source'] } },
  resolve: { conditions: ['@org/source'] },
  test: { name: 'otel', include: ['test/**/*.test.ts'], testTimeout: 20_000 },
})
