import { defineProject } from 'vitest/config'

export default defineProject({
  ssr: { resolve: { conditions: ['@org/source'] } },
  resolve: { conditions: ['@org/source'] },
  // Each test starts an AWS-shaped fleet (6 app processes, fake ELBv2/EC2, SSM, S3) and runs the CLI.
  test: { name: 'example-aws', include: ['test/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 60_000 },
})
