import { defineConfig } from 'tsup'

// ESM only, like core: p-limit and p-retry are ESM-only, and Node >= 20.19 can require() ESM.
export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  external: ['@org/rolling-core', 'ssh2', 'p-limit', 'p-retry'],
})
