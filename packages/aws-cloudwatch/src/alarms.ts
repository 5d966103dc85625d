// A rollout gate over CloudWatch alarms, as CodeDeploy's alarm configuration: the named
// alarms (metric and composite) are read with DescribeAlarms; any in ALARM fails the gate;
// an alarm that cannot be read (missing, access denied) fails it too unless
// `ignoreUnreadable`. Throttling the SDK's retries did not absorb says `wait`: the runner asks
// again, and the gate's deadline turns a throttled API into a failure that says so.
import { CloudWatchClient, DescribeAlarmsCommand, type CloudWatchClientConfig } from '@aws-sdk/client-cloudwatch'
import { ValidationError, type Gate, type GateContext, type GateVerdict } from '@org/rolling-core'
import { abortReason, errorMessage } from '@org/rolling-core/adapter'

export interface CloudWatchAlarmsOptions {
  /** Alarm names, metric or composite. */
  names: readonly string[]
  /** A client of your own (region, credentials, retries). @default new CloudWatchClient(clientConfig) */
  client?: CloudWatchClient
  /** Config of the client made when `client` is not given. */
  clientConfig?: CloudWatchClientConfig
  /**
   * Pass when an alarm cannot be read (it does not exist, or the caller may not read it),
   * naming it in the detail. CodeDeploy's `ignorePollAlarmFailure`.
   * @default false
   */
  ignoreUnreadable?: boolean
  /** How an alarm in INSUFFICIENT_DATA counts. @default 'pass' (as CodeDeploy: only ALARM fails) */
  insufficientData?: 'pass' | 'wait' | 'fail'
  /** @default 'cloudwatch' */
  name?: string
  /** Keep watching this long before the gate passes. @default the rollout's `bake` */
  bake?: number
  /** Time between checks. @default 5000 */
  interval?: number
  /** Fail when still undecided (throttled) after this long. @default the rollout's `timeouts.gate` */
  timeout?: number
}

interface Seen {
  name: string
  state: string
  reason: string
}

// DescribeAlarms takes at most 100 names per call.
const NAMES_PER_CALL = 100
const THROTTLING = new Set(['Throttling', 'ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded'])

export function cloudwatchAlarms(options: CloudWatchAlarmsOptions): Gate {
  const names = options?.names
  if (!Array.isArray(names) || names.length === 0 || names.some((n) => typeof n !== 'string' || n === '' || n.length > 255)) {
    throw new ValidationError('cloudwatchAlarms.names', `expected a non-empty list of alarm names, got ${JSON.stringify(names)}`)
  }
  const insufficient = options.insufficientData ?? 'pass'
  if (!['pass', 'wait', 'fail'].includes(insufficient)) {
    throw new ValidationError('cloudwatchAlarms.insufficientData', `expected 'pass', 'wait' or 'fail', got ${JSON.stringify(insufficient)}`)
  }
  const unique = [...new Set(names)]
  let client = options.client

  async function read(ctx: GateContext): Promise<Seen[]> {
    client ??= new CloudWatchClient(options.clientConfig ?? {})
    const seen: Seen[] = []
    for (let i = 0; i < unique.length; i += NAMES_PER_CALL) {
      const chunk = unique.slice(i, i + NAMES_PER_CALL)
      let token: string | undefined
      do {
        const out = await client.send(
          new DescribeAlarmsCommand({ AlarmNames: chunk, AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], MaxRecords: 100, NextToken: token }),
          { abortSignal: ctx.signal },
        )
        for (const a of [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])]) {
          seen.push({ name: a.AlarmName ?? '?', state: a.StateValue ?? 'unknown', reason: a.StateReason ?? '' })
        }
        token = out.NextToken
      } while (token)
    }
    return seen
  }

  async function check(ctx: GateContext): Promise<GateVerdict> {
    if (ctx.signal.aborted) throw abortReason(ctx.signal)
    let seen: Seen[]
    try {
      seen = await read(ctx)
    } catch (error) {
      if (ctx.signal.aborted) throw abortReason(ctx.signal)
      const code = (error as { name?: string }).name ?? ''
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode
      const why = `DescribeAlarms failed: ${code && !errorMessage(error).includes(code) ? `${code}: ` : ''}${errorMessage(error)}`
      // Transient: ask again. Anything else means the alarms cannot be read.
      if (THROTTLING.has(code) || (status !== undefined && status >= 500)) return { state: 'wait', detail: `${why} (will ask again)` }
      return unreadable(unique, why)
    }
    const found = new Map(seen.map((s) => [s.name, s]))
    const alarming = seen.filter((s) => s.state === 'ALARM')
    if (alarming.length > 0) {
      return { state: 'fail', detail: alarming.map((s) => `alarm ${s.name} is ALARM${s.reason ? ` (${s.reason})` : ''}`).join('; ') }
    }
    const missing = unique.filter((n) => !found.has(n))
    const insufficientList = seen.filter((s) => s.state === 'INSUFFICIENT_DATA').map((s) => s.name)
    if (insufficientList.length > 0 && insufficient !== 'pass') {
      return { state: insufficient, detail: `alarm(s) ${insufficientList.join(', ')} in INSUFFICIENT_DATA` }
    }
    const ok = `${seen.length - insufficientList.length} alarm(s) OK${insufficientList.length ? `, ${insufficientList.join(', ')} INSUFFICIENT_DATA` : ''}`
    if (missing.length > 0) {
      const verdict = unreadable(missing, 'no such alarm')
      return verdict.state === 'pass' ? { state: 'pass', detail: `${ok}; ${verdict.detail}` } : verdict
    }
    return { state: 'pass', detail: ok }
  }

  function unreadable(which: readonly string[], why: string): GateVerdict {
    const list = which.join(', ')
    return options.ignoreUnreadable
      ? { state: 'pass', detail: `could not read ${list} (${why}); ignored (ignoreUnreadable)` }
      : { state: 'fail', detail: `could not read alarm(s) ${list}: ${why}` }
  }

  return {
    name: options.name ?? 'cloudwatch',
    check,
    ...(options.bake === undefined ? {} : { bake: options.bake }),
    ...(options.interval === undefined ? {} : { interval: options.interval }),
    ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
  }
}
