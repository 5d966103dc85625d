import { cp } from 'node:fs/promises'
import { library } from '../../tsup.base'

// The app is plain JavaScript copied next to the bundle, where
// build.ts looks for it (`./app/app.mjs` relative to the module).
export default library({
  entry: { index: 'src/index.ts' },
  external: ['@org/rolling-haproxy'],
  async onSuccess() {
    await cp('src/app', 'dist/app', { recursive: true })
  },
})
