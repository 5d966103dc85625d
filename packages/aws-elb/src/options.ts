// The adapter's options: their types with defaults documented, the defaults, and the one
// validation pass at the entry point (a bad value names the option and the value).
import type { EC2ClientConfig, EC2Client } from '@aws-sdk/client-ec2'
import type { ElasticLoadBalancingV2Client, ElasticLoadBalancingV2ClientConfig } from '@aws-sdk/client-elastic-load-balancing-v2'
import { ValidationError } from '@org/rolling-core'
import { checkOptionalMs } from '@org/rolling-core/adapter'

export interface Elbv2LoadBalancerOptions {
  /**
   * The target groups whose targets are the pool, by ARN or by name.
   * @example ['arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef']
   */
  targetGroups: readonly string[]
  /**
   * An ELBv2 client to use (its retry settings aside: see `maxThrottleRetries`). Clients the
   * adapter makes itself use `clientConfig`.
   */
  client?: ElasticLoadBalancingV2Client
  /**
   * Config for the ELBv2 client the adapter makes when `client` is not given. Its `maxAttempts`
   * and `retryStrategy` are not used: every call of the adapter carries the adapter's own.
   * @example { region: 'eu-west-1' }
   */
  clientConfig?: ElasticLoadBalancingV2ClientConfig
  /** An EC2 client, for resolving instance targets to their private IP. */
  ec2Client?: EC2Client
  /** Config for the EC2 client when `ec2Client` is not given. @default clientConfig */
  ec2ClientConfig?: EC2ClientConfig
  /**
   * Delay between DescribeTargetHealth polls while attaching (drain polls start here and grow to 4x).
   * @default 5000
   */
  pollMs?: number
  /** Consecutive polls an attached target may be `unhealthy` before attach fails. @default 3 */
  unhealthyPolls?: number
  /**
   * Longest drain wait. By default the longest `deregistration_delay.timeout_seconds` of the
   * batch's groups plus `drainMarginMs`; always capped by the engine's deadline.
   */
  drainTimeoutMs?: number
  /** Slack added to the deregistration delay for the default drain deadline. @default 30_000 */
  drainMarginMs?: number
  /** Longest wait for attached targets to turn healthy (capped by the engine's deadline). @default 300_000 */
  attachTimeoutMs?: number
  /** Minimum time between two Describe* calls of this adapter (one shared limiter). @default 200 */
  describeIntervalMs?: number
  /**
   * Retries of a throttled call (or a transient one: 500/502/503/504, a reset connection), with
   * jittered exponential backoff: the SDK's standard retry strategy, put on each call in place of
   * the client's own. @default 8
   */
  maxThrottleRetries?: number
  /** First backoff after throttling; doubles per retry up to 20 s. @default 200 */
  throttleBaseMs?: number
}

export const DEFAULTS = {
  pollMs: 5000,
  unhealthyPolls: 3,
  drainMarginMs: 30_000,
  attachTimeoutMs: 300_000,
  describeIntervalMs: 200,
  maxThrottleRetries: 8,
  throttleBaseMs: 200,
} as const satisfies Partial<Elbv2LoadBalancerOptions>

export function validate(opts: Elbv2LoadBalancerOptions): void {
  if (!Array.isArray(opts.targetGroups) || opts.targetGroups.length === 0 || opts.targetGroups.some((tg) => typeof tg !== 'string' || tg === '')) {
    throw new ValidationError('targetGroups', `expected a non-empty array of target group ARNs or names, got ${JSON.stringify(opts.targetGroups)}`)
  }
  // Durations end in timers: the core's check also refuses one above Node's timer ceiling.
  for (const option of ['pollMs', 'drainTimeoutMs', 'drainMarginMs', 'attachTimeoutMs', 'describeIntervalMs', 'throttleBaseMs'] as const) checkOptionalMs(option, opts[option])
  const retries = opts.maxThrottleRetries
  if (retries !== undefined && !(typeof retries === 'number' && Number.isFinite(retries) && retries >= 0)) {
    throw new ValidationError('maxThrottleRetries', `expected a finite number >= 0, got ${String(retries)}`)
  }
  if (!(Number.isInteger(opts.unhealthyPolls) && (opts.unhealthyPolls ?? 0) >= 1)) {
    throw new ValidationError('unhealthyPolls', `expected an integer >= 1, got ${String(opts.unhealthyPolls)}`)
  }
}
