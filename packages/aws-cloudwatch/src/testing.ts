// Test support: a loopback CloudWatch endpoint for the real SDK client.
export { startFakeCloudWatch, type FakeCloudWatch, type FakeCloudWatchCall, type FakeCloudWatchOptions, type AlarmState } from './testing/fake-cloudwatch.js'
