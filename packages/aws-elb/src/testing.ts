// Test support for this adapter and for packages built on it: a loopback ELBv2/EC2
// endpoint for the real SDK clients, and real HTTP targets for its health checks.
export {
  startFakeAws,
  type FakeAws,
  type FakeAwsOptions,
  type FakeCall,
  type FakeHealthCheck,
  type FakeProbe,
  type FakeProbeResult,
  type FakeTargetGroupOptions,
  type TargetState,
} from './testing/fake-aws.js'
export { startHttpTargets, type HttpTarget, type HttpTargets } from './testing/http-targets.js'
