import { library } from '../../tsup.base'

export default library({
  entry: { index: 'src/index.ts', adapter: 'src/adapter.ts', 'testing/index': 'src/testing/index.ts', 'testing/contracts/index': 'src/testing/contracts/index.ts' },
  external: ['vitest'],
})
