import { defineConfig } from 'tsup'

// ESM only, like core: Node >= 20.19 can require() ESM, and core is ESM-only.
export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  external: ['@org/rolling-core', '@aws-sdk/client-ssm'],
})
