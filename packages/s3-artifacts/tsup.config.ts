import { library } from '../../tsup.base'

// s3rver (the fake S3 of the testing entry) is an optional peer dependency, never bundled.
export default library({
  entry: { index: 'src/index.ts', testing: 'src/testing.ts' },
  external: ['@org/rolling-core', /^@aws-sdk\//, 's3rver'],
})
