import { defineProject } from 'vitest/config'

export default defineProject({
  ssr: { resolve: { conditions: ['@org/source'] } },
  resolve: { conditions: ['@org/source'] },
  test: { name: 'core', include: ['test/**/*.test.ts'], testTimeout: 30_000 },
})
