import { defineConfig } from 'tsup'

// ESM only, like core. The AWS SDK stays external: users share one copy with their app.
export default defineConfig({
  entry: { index: 'src/index.ts', testing: 'src/testing.ts' },
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  external: ['@org/rolling-core', /^@aws-sdk\//],
})
