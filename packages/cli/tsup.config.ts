import { library } from '../../tsup.base'

// The bin keeps its `#!/usr/bin/env node` line from src/bin.ts; main and the reporters are
// shared with the library entry through a common chunk.
export default library({
  entry: { index: 'src/index.ts', bin: 'src/bin.ts' },
  dts: { entry: { index: 'src/index.ts' } },
  // @org/rolling-s3 (for `--state s3://…`) is an optional peer dependency, loaded only then.
  external: ['@org/rolling-core', '@org/rolling-s3', 'jiti'],
})
