// A loopback ELBv2 + EC2 endpoint for tests: speaks the real Query/XML wire protocols so
// the real SDK clients talk to it, and models real behaviour: targets go initial → healthy
// through real HTTP health checks (one pass when new, `healthyThreshold` when unhealthy),
// deregistration drains for the group's delay, throttling can be injected, and every call is
// recorded so tests can count them. On a fake clock (with a simulated probe) a whole rollout
// with AWS's real delays runs in no real time. The API actions are in fake-elbv2-api.ts.
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { EC2Client } from '@aws-sdk/client-ec2'
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2'
import { systemClock, } from '@org/rolling-core'
import { describeInstances } from './fake-ec2.js'
import { httpProbe } from './http-targets.js'
import { ApiError, esc, key } from './fake-wire.js'
import { type ElbModel, type FakeGroup, type FakeTarget, handleElbAction } from './fake-elbv2-api.js'
import type { FakeProbeResult } from './http-targets.js'
import type { FakeAws, FakeAwsOptions, FakeCall, FakeTargetGroupOptions, TargetState } from './fake-aws-options.js'

export type { FakeProbeResult }
export type { FakeAws, FakeAwsOptions, FakeCall, FakeHealthCheck, FakeProbe, FakeTargetGroupOptions, TargetState } from './fake-aws-options.js'

const ELB_NS = 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/'
const ACCOUNT = '123456789012'

export async function startFakeAws(options: FakeAwsOptions = {}): Promise<FakeAws> {
  const random = options.random ?? Math.random
  const clock = options.clock ?? systemClock
  let inFlight = 0
  const groups = new Map<string, FakeGroup>()
  const instances = new Map<string, string>()
  const zones = new Map<string, string>()
  const calls: FakeCall[] = []
  let closed = false

  const groupOf = (nameOrArn: string) => groups.get(nameOrArn) ?? [...groups.values()].find((g) => g.arn === nameOrArn)
  const mustGroup = (nameOrArn: string) => {
    const g = groupOf(nameOrArn)
    if (!g) throw new Error(`fake-aws: no target group ${nameOrArn}`)
    return g
  }

  const addressOf = (group: FakeGroup, target: FakeTarget) => (group.targetType === 'instance' ? instances.get(target.id) : target.id)

  const stopChecks = (target: FakeTarget) => {
    if (target.timer !== undefined) clock.clearTimeout(target.timer)
    target.timer = undefined
  }

  const failed: FakeProbeResult = { ok: false, reason: 'Target.FailedHealthChecks', description: 'Health checks failed' }
  const probe = async (group: FakeGroup, target: FakeTarget): Promise<FakeProbeResult> => {
    const host = addressOf(group, target)
    if (!host) return failed
    inFlight++
    try {
      const result = await (options.probe ? options.probe(host, target.port) : httpProbe(host, target.port, group.check))
      return typeof result === 'boolean' ? (result ? { ok: true } : failed) : { ...(result.ok ? {} : failed), ...result }
    } catch {
      return failed
    } finally {
      inFlight--
    }
  }

  // Each registered target is checked every intervalMs, like ELB's health checker.
  const schedule = (group: FakeGroup, target: FakeTarget) => {
    stopChecks(target)
    target.timer = clock.setTimeout(async () => {
      // Checked again after the probe: the target may have been deregistered meanwhile.
      const checking = () => !closed && target.state !== 'draining' && group.targets.get(key(target.id, target.port)) === target
      if (!checking()) return
      const result = await probe(group, target)
      if (!checking()) return
      if (result.ok) {
        target.failures = 0
        target.passes++
        // As ALB documents it: a newly registered target needs one passing check; an unhealthy
        // one needs `healthyThreshold` consecutive passes.
        const needed = target.state === 'initial' ? 1 : group.check.healthyThreshold
        if (target.state !== 'healthy' && target.passes >= needed) setState(target, 'healthy')
      } else {
        target.passes = 0
        target.failures++
        if (target.state !== 'unhealthy' && target.failures >= group.check.unhealthyThreshold) setState(target, 'unhealthy', result.reason, result.description)
        else if (target.state === 'unhealthy') Object.assign(target, { reason: result.reason, description: result.description })
      }
      schedule(group, target)
    }, group.check.intervalMs)
  }

  const setState = (target: FakeTarget, state: TargetState, reason?: string, description?: string) => {
    target.state = state
    target.reason = reason
    target.description = description
  }

  const registerOne = (group: FakeGroup, id: string, port: number | undefined, healthy = false) => {
    const p = port ?? group.port
    const existing = group.targets.get(key(id, p))
    if (existing && existing.state !== 'draining') return
    if (existing?.drainTimer !== undefined) clock.clearTimeout(existing.drainTimer)
    const target: FakeTarget = {
      id,
      port: p,
      state: 'initial',
      reason: 'Elb.RegistrationInProgress',
      description: 'Target registration is in progress',
      passes: 0,
      failures: 0,
    }
    if (healthy) setState(target, 'healthy')
    group.targets.set(key(id, p), target)
    schedule(group, target)
  }

  // Open connections per `group|id:port`, and how to close each (the delay's end closes them).
  const holds = new Map<string, Set<() => void>>()
  const holdsOf = (group: FakeGroup, k: string) => holds.get(`${group.name}|${k}`)?.size ?? 0
  const endDrain = (group: FakeGroup, k: string, target: FakeTarget) => {
    if (group.targets.get(k) !== target || target.state !== 'draining') return
    if (target.drainTimer !== undefined) clock.clearTimeout(target.drainTimer)
    group.targets.delete(k)
    for (const close of [...(holds.get(`${group.name}|${k}`) ?? [])]) close()
  }

  const deregisterOne = (group: FakeGroup, id: string, port: number | undefined) => {
    const k = key(id, port ?? group.port)
    const target = group.targets.get(k)
    if (!target || target.state === 'draining') return
    stopChecks(target)
    setState(target, 'draining', 'Target.DeregistrationInProgress', 'Target deregistration is in progress')
    const idle = group.drainEndsWhenIdle && holdsOf(group, k) === 0
    target.drainTimer = clock.setTimeout(() => endDrain(group, k, target), idle ? 0 : group.deregistrationDelayMs)
  }

  const model: ElbModel = {
    groups,
    instances,
    zones,
    groupOf,
    register: (group, id, port) => registerOne(group, id, port),
    deregister: (group, id, port) => deregisterOne(group, id, port),
  }

  const fake = {} as FakeAws
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    inFlight++
    res.once('close', () => inFlight--)
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const params = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')))
      const action = params.Action ?? ''
      const ec2 = params.Version === '2016-11-15'
      const call: FakeCall = { action, params, at: clock.now() }
      calls.push(call)
      const requestId = randomUUID()
      res.setHeader('content-type', 'text/xml')
      res.setHeader('x-amzn-requestid', requestId)
      try {
        if (fake.throttleRate > 0 && random() < fake.throttleRate) {
          throw ec2 ? new ApiError('RequestLimitExceeded', 'Request limit exceeded.', 503) : new ApiError('Throttling', 'Rate exceeded', 400)
        }
        if (ec2) {
          if (action !== 'DescribeInstances') throw new ApiError('InvalidAction', `The action ${action} is not valid for this web service.`)
          res.end(describeInstances(instances, params, zones))
          return
        }
        const body = handleElbAction(model, action, params)
        res.end(
          `<${action}Response xmlns="${ELB_NS}"><${action}Result>${body}</${action}Result>` +
            `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`,
        )
      } catch (error) {
        const e = error instanceof ApiError ? error : new ApiError('InternalFailure', String(error), 500)
        call.error = e.code
        res.statusCode = e.status
        res.end(
          ec2
            ? `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${esc(e.code)}</Code><Message>${esc(e.message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`
            : `<ErrorResponse xmlns="${ELB_NS}"><Error><Type>${e.status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${esc(e.code)}</Code><Message>${esc(e.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
        )
      }
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, options.host ?? '127.0.0.1', () => resolve())
  })
  const { address, port } = server.address() as AddressInfo
  const endpoint = `http://${address}:${port}`

  Object.assign(fake, {
    endpoint,
    clientConfig: { endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake-secret' } },
    calls,
    track: <C extends ElasticLoadBalancingV2Client | EC2Client>(client: C): C => {
      // `initialize` wraps the whole call: endpoint, signing, the round trip and parsing.
      ;(client as ElasticLoadBalancingV2Client).middlewareStack.add(
        (next) => async (args) => {
          inFlight++
          try {
            return await next(args)
          } finally {
            inFlight--
          }
        },
        { step: 'initialize', name: 'fakeAwsInFlight', override: true },
      )
      return client
    },
    throttleRate: options.throttleRate ?? 0,
    count: (action?: string, o?: { succeeded?: boolean }) =>
      calls.filter((c) => (action === undefined || c.action === action) && !(o?.succeeded && c.error)).length,
    resetCalls: () => {
      calls.length = 0
    },
    addTargetGroup: (o: FakeTargetGroupOptions) => {
      if (groupOf(o.name)) throw new Error(`fake-aws: target group ${o.name} exists`)
      const arn = `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:targetgroup/${o.name}/${randomUUID().replace(/-/g, '').slice(0, 16)}`
      const check = { path: '/_status', intervalMs: 50, timeoutMs: 500, healthyThreshold: 2, unhealthyThreshold: 2, ...options.healthCheck, ...o.healthCheck }
      groups.set(o.name, {
        arn,
        name: o.name,
        targetType: o.targetType ?? 'ip',
        port: o.port ?? 80,
        deregistrationDelayMs: o.deregistrationDelayMs ?? 300_000,
        drainEndsWhenIdle: o.drainEndsWhenIdle ?? false,
        check,
        targets: new Map(),
      })
      return { arn, name: o.name }
    },
    addInstance: (ip: string, id = `i-0${randomUUID().replace(/-/g, '').slice(0, 16)}`, zone?: string) => {
      instances.set(id, ip)
      if (zone) zones.set(id, zone)
      return id
    },
    setZone: (ip: string, zone: string) => {
      zones.set(ip, zone)
    },
    register: (group: string, targets: readonly { id: string; port?: number }[], o?: { healthy?: boolean }) => {
      const g = mustGroup(group)
      for (const t of targets) registerOne(g, t.id, t.port, o?.healthy)
    },
    deregister: (group: string, targets: readonly { id: string; port?: number }[]) => {
      const g = mustGroup(group)
      for (const t of targets) deregisterOne(g, t.id, t.port)
    },
    state: (group: string, id: string, port?: number) => {
      const g = mustGroup(group)
      return g.targets.get(key(id, port ?? g.port))?.state ?? 'unused'
    },
    hold: (group: string, id: string, port?: number) => {
      const g = mustGroup(group)
      const k = key(id, port ?? g.port)
      if (!g.targets.has(k)) throw new Error(`fake-aws: ${group}/${k} is not registered`)
      const set = holds.get(`${g.name}|${k}`) ?? new Set()
      holds.set(`${g.name}|${k}`, set)
      let open = true
      const close = () => {
        if (!open) return
        open = false
        set.delete(close)
        const target = g.targets.get(k)
        if (target?.state === 'draining' && g.drainEndsWhenIdle && set.size === 0) endDrain(g, k, target)
      }
      set.add(close)
      return {
        release: close,
        get open() {
          return open
        },
      }
    },
    connections: (group: string, id: string, port?: number) => {
      const g = mustGroup(group)
      return holdsOf(g, key(id, port ?? g.port))
    },
    close: async () => {
      closed = true
      for (const g of groups.values()) {
        for (const t of g.targets.values()) {
          stopChecks(t)
          if (t.drainTimer !== undefined) clock.clearTimeout(t.drainTimer)
        }
      }
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  })
  // A getter: Object.assign above would copy its value once.
  Object.defineProperty(fake, 'inFlight', { get: () => inFlight, enumerable: true })
  return fake
}
