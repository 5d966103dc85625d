import { library } from '../../tsup.base'

// ESM only, like core: p-limit and p-retry are ESM-only, and Node >= 20.19 can require() ESM.
export default library({
  entry: { index: 'src/index.ts' },
  external: ['@org/rolling-core', 'ssh2', 'p-limit', 'p-retry'],
})
