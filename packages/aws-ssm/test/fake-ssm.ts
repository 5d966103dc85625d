// The fake lives in src/testing so other packages can import it from `@org/rolling-aws-ssm/testing`.
export * from '../src/testing.js'
