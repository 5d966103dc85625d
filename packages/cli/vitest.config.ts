import { defineProject } from 'vitest/config'

export default defineProject({
  ssr: { resolve: { conditions: ['@org/source'] } },
  resolve: { conditions: ['@org/source'] },
  test: { name: 'cli', include: ['test/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 },
})
