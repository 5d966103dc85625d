// A loopback CloudWatch endpoint for tests: it speaks the wire protocol the pinned
// @aws-sdk/client-cloudwatch uses (AWS JSON 1.0, `X-Amz-Target: GraniteServiceVersion20100801.*`,
// query-compatible error codes in `x-amzn-query-error`), so the real client talks to it.
// It models what the gate relies on: DescribeAlarms by name in pages of at most 100, metric
// alarms only unless `AlarmTypes` asks for composites, composite states derived from their
// children, SetAlarmState, injected throttling, and every call recorded.
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { systemClock, type Clock } from '@org/rolling-core'

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA'

const TARGET_PREFIX = 'GraniteServiceVersion20100801.'
const ACCOUNT = '123456789012'
const REGION = 'us-east-1'
const STATES: readonly string[] = ['OK', 'ALARM', 'INSUFFICIENT_DATA']

export interface FakeCloudWatchOptions {
  /** @default '127.0.0.1' */
  host?: string
  /** Share of calls answered `Throttling` (0..1). @default 0 */
  throttleRate?: number
  /** @default Math.random */
  random?: () => number
  /** Clock of state timestamps and `calls[].at`. @default systemClock */
  clock?: Clock
}

export interface FakeCloudWatchCall {
  action: string
  body: Record<string, unknown>
  /** The error code answered instead of a result. */
  error?: string
  at: number
}

export interface FakeCloudWatch {
  readonly endpoint: string
  readonly clientConfig: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } }
  readonly calls: FakeCloudWatchCall[]
  throttleRate: number
  /** Actions answered `AccessDenied` (to model an IAM policy without the permission). */
  readonly denied: Set<string>
  count(action?: string, options?: { succeeded?: boolean }): number
  putMetricAlarm(name: string, state?: AlarmState, reason?: string): void
  /** A composite alarm in ALARM when any (`OR`) or all (`AND`) of `children` are. */
  putCompositeAlarm(name: string, children: readonly string[], op?: 'OR' | 'AND'): void
  setState(name: string, state: AlarmState, reason?: string): void
  state(name: string): AlarmState | undefined
  close(): Promise<void>
}

interface Alarm {
  name: string
  kind: 'metric' | 'composite'
  state: AlarmState
  reason: string
  updatedAt: number
  children?: readonly string[]
  op?: 'OR' | 'AND'
}

class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message)
  }
}

export async function startFakeCloudWatch(options: FakeCloudWatchOptions = {}): Promise<FakeCloudWatch> {
  const clock = options.clock ?? systemClock
  const random = options.random ?? Math.random
  const alarms = new Map<string, Alarm>()
  const calls: FakeCloudWatchCall[] = []

  const arn = (a: Alarm) => `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${a.name}`
  const stateOf = (a: Alarm, seen = new Set<string>()): AlarmState => {
    if (a.kind === 'metric') return a.state
    if (seen.has(a.name)) return 'INSUFFICIENT_DATA' // a cycle: AWS refuses them at creation
    seen.add(a.name)
    const states = (a.children ?? []).map((c) => {
      const child = alarms.get(c)
      return child ? stateOf(child, seen) : 'INSUFFICIENT_DATA'
    })
    const inAlarm = states.filter((s) => s === 'ALARM').length
    return (a.op === 'AND' ? inAlarm === states.length && states.length > 0 : inAlarm > 0) ? 'ALARM' : 'OK'
  }
  const view = (a: Alarm) => {
    const state = stateOf(a)
    const common = {
      AlarmName: a.name,
      AlarmArn: arn(a),
      ActionsEnabled: true,
      StateValue: state,
      StateReason: a.kind === 'composite' ? `${state === 'ALARM' ? 'Rule evaluated to ALARM' : 'Rule evaluated to OK'}` : a.reason,
      StateUpdatedTimestamp: a.updatedAt / 1000,
    }
    if (a.kind === 'metric') {
      return {
        ...common,
        MetricName: `${a.name}-metric`,
        Namespace: 'Fake',
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      }
    }
    return { ...common, AlarmRule: (a.children ?? []).map((c) => `ALARM("${c}")`).join(` ${a.op ?? 'OR'} `) }
  }

  const describeAlarms = (body: Record<string, unknown>) => {
    const names = body.AlarmNames as string[] | undefined
    if (names !== undefined && body.AlarmNamePrefix !== undefined) {
      throw new ApiError('InvalidParameterCombination', 'AlarmNamePrefix and AlarmNames cannot be used together')
    }
    if (names && names.length > 100)
      throw new ApiError(
        'ValidationError',
        `1 validation error detected: Value at 'alarmNames' failed to satisfy constraint: Member must have length less than or equal to 100`,
      )
    const max = body.MaxRecords === undefined ? 50 : Number(body.MaxRecords)
    if (!Number.isInteger(max) || max < 1 || max > 100)
      throw new ApiError(
        'ValidationError',
        `Value '${String(body.MaxRecords)}' at 'maxRecords' failed to satisfy constraint: Member must have value between 1 and 100`,
      )
    // As AWS: without AlarmTypes only metric alarms are returned.
    const types = (body.AlarmTypes as string[] | undefined) ?? ['MetricAlarm']
    const wanted = [...alarms.values()]
      .filter((a) => (names ? names.includes(a.name) : true))
      .filter((a) => types.includes(a.kind === 'metric' ? 'MetricAlarm' : 'CompositeAlarm'))
      .sort((a, b) => a.name.localeCompare(b.name))
    let start = 0
    if (body.NextToken !== undefined) {
      const match = /^page:(\d+)$/.exec(Buffer.from(String(body.NextToken), 'base64url').toString('utf8'))
      if (!match) throw new ApiError('InvalidNextToken', 'The service returned an invalid NextToken')
      start = Number(match[1])
    }
    const slice = wanted.slice(start, start + max)
    const out: Record<string, unknown> = {
      MetricAlarms: slice.filter((a) => a.kind === 'metric').map(view),
      CompositeAlarms: slice.filter((a) => a.kind === 'composite').map(view),
    }
    if (start + max < wanted.length) out.NextToken = Buffer.from(`page:${start + max}`).toString('base64url')
    return out
  }

  const setAlarmState = (body: Record<string, unknown>) => {
    const alarm = alarms.get(String(body.AlarmName))
    if (!alarm) throw new ApiError('ResourceNotFound', `Alarm ${String(body.AlarmName)} not found`, 404)
    if (!STATES.includes(String(body.StateValue))) throw new ApiError('ValidationError', `Invalid StateValue ${String(body.StateValue)}`)
    if (alarm.kind === 'metric') Object.assign(alarm, { state: body.StateValue, reason: String(body.StateReason ?? ''), updatedAt: clock.now() })
    return {}
  }

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '')
      const action = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : ''
      let body: Record<string, unknown> = {}
      const call: FakeCloudWatchCall = { action, body, at: clock.now() }
      calls.push(call)
      res.setHeader('content-type', 'application/x-amz-json-1.0')
      res.setHeader('x-amzn-requestid', randomUUID())
      try {
        const text = Buffer.concat(chunks).toString('utf8')
        body = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>)
        call.body = body
        if (fake.throttleRate > 0 && random() < fake.throttleRate) throw new ApiError('Throttling', 'Rate exceeded')
        if (fake.denied.has(action))
          throw new ApiError('AccessDenied', `User: arn:aws:iam::${ACCOUNT}:user/fake is not authorized to perform: cloudwatch:${action}`, 403)
        const result = action === 'DescribeAlarms' ? describeAlarms(body) : action === 'SetAlarmState' ? setAlarmState(body) : undefined
        if (!result) throw new ApiError('UnknownOperationException', `Unknown operation ${target}`)
        res.end(JSON.stringify(result))
      } catch (error) {
        const e = error instanceof ApiError ? error : new ApiError('InternalFailure', String(error), 500)
        call.error = e.code
        res.statusCode = e.status
        // Query-compatible services name the Query error code in this header; the SDK reads it.
        res.setHeader('x-amzn-query-error', `${e.code};${e.status >= 500 ? 'Receiver' : 'Sender'}`)
        res.end(JSON.stringify({ __type: `com.amazonaws.cloudwatch#${e.code}`, message: e.message }))
      }
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, options.host ?? '127.0.0.1', () => resolve())
  })
  const { address, port } = server.address() as AddressInfo
  const endpoint = `http://${address}:${port}`

  const fake: FakeCloudWatch = {
    endpoint,
    clientConfig: { endpoint, region: REGION, credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake-secret' } },
    calls,
    throttleRate: options.throttleRate ?? 0,
    denied: new Set(),
    count: (action, o) => calls.filter((c) => (action === undefined || c.action === action) && !(o?.succeeded && c.error)).length,
    putMetricAlarm(name, state = 'OK', reason = `Threshold Crossed: fake datapoint for ${name}`) {
      alarms.set(name, { name, kind: 'metric', state, reason, updatedAt: clock.now() })
    },
    putCompositeAlarm(name, children, op = 'OR') {
      alarms.set(name, { name, kind: 'composite', state: 'OK', reason: '', updatedAt: clock.now(), children: [...children], op })
    },
    setState(name, state, reason) {
      const alarm = alarms.get(name)
      if (alarm?.kind !== 'metric') throw new Error(`fake-cloudwatch: no metric alarm ${name}`)
      Object.assign(alarm, { state, reason: reason ?? `Threshold Crossed: fake datapoint for ${name} (${state})`, updatedAt: clock.now() })
    },
    state(name) {
      const alarm = alarms.get(name)
      return alarm ? stateOf(alarm) : undefined
    },
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
  return fake
}
