import { library } from '../../tsup.base'

export default library({
  entry: { index: 'src/index.ts', testing: 'src/testing.ts' },
  external: ['@org/rolling-core', '@aws-sdk/client-ssm'],
})
