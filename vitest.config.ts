import { defineConfig } from 'vitest/config'

// One vitest run covers every package; sources are resolved through the
// `@org/source` export condition, so no build is needed before testing.
export default defineConfig({
  ssr: { resolve: { conditions: ['@org/source'] } },
  resolve: { conditions: ['@org/source'] },
  test: {
    projects: ['packages/*'],
  },
})
