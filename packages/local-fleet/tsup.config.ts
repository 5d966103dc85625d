import { cp } from 'node:fs/promises'
import { library } from '../../tsup.base'

// The app is plain JavaScript copied next to the bundle, where
// build.ts looks for it (`./app/app.mjs` relative to the module).
// `aws` is its own entry: the main one must not load the AWS SDK. The data
// plane's child process is an entry too: data-plane.ts forks `./data-plane-child.js`.
export default library({
  entry: { index: 'src/index.ts', aws: 'src/aws.ts', 'data-plane-child': 'src/data-plane-child.ts' },
  external: ['@org/rolling-haproxy', /^@org\/rolling-(aws-elb|aws-ssm|s3)/, /^@aws-sdk\//],
  async onSuccess() {
    await cp('src/app', 'dist/app', { recursive: true })
  },
})
