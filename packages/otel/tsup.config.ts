import { library } from '../../tsup.base'

export default library({
  entry: { index: 'src/index.ts', otlp: 'src/otlp.ts' },
  external: ['@org/rolling-core', /^@opentelemetry\//],
})
