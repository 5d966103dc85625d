// Test support for this executor and for packages built on it: a loopback SSM endpoint for
// the real SSMClient that really runs each command in a folder per instance id.
export {
  FakeSsm,
  OUTPUT_LIMIT,
  startFakeSsm,
  type FakeInvocation,
  type FakeSsmCall,
  type FakeSsmHost,
  type FakeSsmOptions,
} from './testing/fake-ssm.js'
