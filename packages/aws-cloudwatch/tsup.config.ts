import { library } from '../../tsup.base'

// The AWS SDK stays external: users share one copy with their app.
export default library({
  entry: { index: 'src/index.ts', testing: 'src/testing.ts' },
  external: ['@org/rolling-core', /^@aws-sdk\//],
})
