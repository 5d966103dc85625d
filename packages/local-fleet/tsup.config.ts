import { cp } from 'node:fs/promises'
import { defineConfig } from 'tsup'

// ESM only, like core. The app is plain JavaScript copied next to the bundle, where
// build.ts looks for it (`./app/app.mjs` relative to the module).
export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  external: ['@org/rolling-haproxy'],
  async onSuccess() {
    await cp('src/app', 'dist/app', { recursive: true })
  },
})
