// The adapter's error: core's RollingError with code `ADAPTER`, plus a `reason` callers
// can branch on (a missing target group is not the same failure as a target failing checks).
import { RollingError } from '@org/rolling-core'

export type ElbErrorReason =
  /** A configured target group does not exist (TargetGroupNotFound), or a target names none of them. */
  | 'unknown-target-group'
  /** A target id that is not `<targetGroupName>/<id>:<port>` of a configured target group. */
  | 'unknown-target'
  /** The target group's type cannot be driven (lambda, alb). */
  | 'unsupported-target-type'
  /** An instance target whose private IP DescribeInstances did not return. */
  | 'unknown-instance'
  /** An attached target stayed `unhealthy` for `unhealthyPolls` consecutive polls. */
  | 'unhealthy'
  /** Still throttled after every retry. */
  | 'throttled'
  /** Any other API error; `cause` holds the SDK error. */
  | 'api'

export class ElbError extends RollingError {
  readonly reason: ElbErrorReason
  constructor(reason: ElbErrorReason, message: string, options?: { cause?: unknown }) {
    super('ADAPTER', `[rolling:elbv2] ${message}`, options)
    this.name = 'ElbError'
    this.reason = reason
  }
}
