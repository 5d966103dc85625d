import { defineProject } from 'vitest/config'

// End-to-end tests on real processes and sockets: they run one file at a time so fleets
// do not compete for the CPU and skew latency assertions.
export default defineProject({
  ssr: { resolve: { conditions: ['@org/source'] } },
  resolve: { conditions: ['@org/source'] },
  test: {
    name: 'local-fleet',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    // The AWS-shaped fleet runs the real AWS SDK clients, which warn about Node 20 on every start.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
})
