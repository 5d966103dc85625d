import { library } from '../../tsup.base'

export default library({
  entry: { index: 'src/index.ts' },
  external: ['@org/rolling-core', /^@aws-sdk\//],
})
