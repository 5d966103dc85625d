import { defineConfig } from 'tsup'

// ESM only: p-limit is ESM-only and Node >= 20.19 can require() ESM.
export default defineConfig({
  entry: { index: 'src/index.ts', 'testing/index': 'src/testing/index.ts' },
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  external: ['vitest'],
})
