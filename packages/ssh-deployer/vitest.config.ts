import { defineProject } from 'vitest/config'

// Each file starts its own OpenSSH server(s) on loopback; the fleet test also starts HAProxy
// and app processes. Files run one at a time so timing-sensitive tests do not compete.
export default defineProject({
  ssr: { resolve: { conditions: ['@org/source'] } },
  resolve: { conditions: ['@org/source'] },
  test: { name: 'ssh', include: ['test/**/*.test.ts'], testTimeout: 30_000, hookTimeout: 30_000, fileParallelism: false },
})
