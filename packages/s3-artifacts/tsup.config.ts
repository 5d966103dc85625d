import { library } from '../../tsup.base'

// The AWS SDK and core are dependencies, never bundled; the testing entry (moto) needs none more.
export default library({
  entry: { index: 'src/index.ts', testing: 'src/testing.ts' },
  external: ['@org/rolling-core', /^@aws-sdk\//],
})
