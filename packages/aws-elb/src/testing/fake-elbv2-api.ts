// The ELBv2 Query API of the fake endpoint: each action read from its form parameters and
// answered as the XML body AWS sends, over the fake's model of target groups and targets
// (kept in fake-aws.ts, which runs the health checks and drains that move target states).
import type { TimerHandle } from '@org/rolling-core'
import type { FakeHealthCheck, TargetState } from './fake-aws.js'
import { ApiError, esc, intParam, key, list, page, targetsOf } from './fake-wire.js'

/** DescribeTargetGroups answers at most this many groups per page (`PageSize` 1..400). */
const ELB_PAGE_MAX = 400

export interface FakeTarget {
  id: string
  port: number
  state: TargetState
  reason?: string
  description?: string
  passes: number
  failures: number
  timer?: TimerHandle
  drainTimer?: TimerHandle
}

export interface FakeGroup {
  arn: string
  name: string
  targetType: string
  port: number
  deregistrationDelayMs: number
  /** Draining ends as soon as no held connection is left (real ELB's behaviour), not at the delay. */
  drainEndsWhenIdle: boolean
  check: Required<FakeHealthCheck>
  targets: Map<string, FakeTarget>
}

/** What the API reads and changes: the fake's groups and instances, and its state transitions. */
export interface ElbModel {
  groups: Map<string, FakeGroup>
  /** Instance id -> private IP. */
  instances: Map<string, string>
  /** Instance id or IP -> Availability Zone, when the test set one. */
  zones: Map<string, string>
  groupOf(nameOrArn: string): FakeGroup | undefined
  register(group: FakeGroup, id: string, port: number | undefined): void
  deregister(group: FakeGroup, id: string, port: number | undefined): void
}

/** The XML result of one ELBv2 action; throws ApiError with AWS's code for what AWS refuses. */
export function handleElbAction(model: ElbModel, action: string, p: Record<string, string>): string {
  const { groups, instances, groupOf } = model
  const needGroup = (arn: string | undefined) => {
    const g = arn === undefined ? undefined : [...groups.values()].find((x) => x.arn === arn)
    if (!g) throw new ApiError('TargetGroupNotFound', `Target groups '${arn}' not found`)
    return g
  }

  switch (action) {
    case 'DescribeTargetGroups': {
      const wanted = [...list(p, 'TargetGroupArns'), ...list(p, 'Names')]
      const found = wanted.length === 0 ? [...groups.values()] : wanted.map((w) => groupOf(w))
      const missing = wanted.filter((_, i) => !found[i])
      if (missing.length > 0) throw new ApiError('TargetGroupNotFound', `One or more target groups not found: ${missing.join(', ')}`)
      const size = intParam(p, 'PageSize', 1, ELB_PAGE_MAX, 'ValidationError') ?? ELB_PAGE_MAX
      const { items, next } = page(found as FakeGroup[], size, p.Marker, 'ValidationError')
      const members = items
        .map(
          (g) =>
            `<member><TargetGroupArn>${esc(g.arn)}</TargetGroupArn><TargetGroupName>${esc(g.name)}</TargetGroupName><Protocol>HTTP</Protocol>` +
            `<Port>${g.port}</Port><VpcId>vpc-0fake</VpcId><HealthCheckProtocol>HTTP</HealthCheckProtocol><HealthCheckPort>traffic-port</HealthCheckPort>` +
            `<HealthCheckEnabled>true</HealthCheckEnabled><HealthCheckIntervalSeconds>${Math.max(1, Math.round(g.check.intervalMs / 1000))}</HealthCheckIntervalSeconds>` +
            `<HealthCheckTimeoutSeconds>${Math.max(1, Math.round(g.check.timeoutMs / 1000))}</HealthCheckTimeoutSeconds>` +
            `<HealthyThresholdCount>${g.check.healthyThreshold}</HealthyThresholdCount><UnhealthyThresholdCount>${g.check.unhealthyThreshold}</UnhealthyThresholdCount>` +
            `<HealthCheckPath>${esc(g.check.path)}</HealthCheckPath><Matcher><HttpCode>200</HttpCode></Matcher><LoadBalancerArns/>` +
            `<TargetType>${g.targetType}</TargetType><ProtocolVersion>HTTP1</ProtocolVersion><IpAddressType>ipv4</IpAddressType></member>`,
        )
        .join('')
      return `<TargetGroups>${members}</TargetGroups>${next ? `<NextMarker>${next}</NextMarker>` : ''}`
    }
    case 'DescribeTargetGroupAttributes': {
      const g = needGroup(p.TargetGroupArn)
      const attrs: [string, string][] = [
        ['deregistration_delay.timeout_seconds', String(g.deregistrationDelayMs / 1000)],
        ['stickiness.enabled', 'false'],
        ['load_balancing.algorithm.type', 'round_robin'],
        ['slow_start.duration_seconds', '0'],
      ]
      return `<Attributes>${attrs.map(([k, v]) => `<member><Key>${k}</Key><Value>${v}</Value></member>`).join('')}</Attributes>`
    }
    case 'DescribeTargetHealth': {
      const g = needGroup(p.TargetGroupArn)
      const asked = targetsOf(p)
      const rows =
        asked.length === 0
          ? [...g.targets.values()].map((t) => ({ id: t.id, port: t.port, t }))
          : asked.map((a) => ({ id: a.id, port: a.port ?? g.port, t: g.targets.get(key(a.id, a.port ?? g.port)) }))
      const members = rows
        .map(({ id, port, t }) => {
          const state = t?.state ?? 'unused'
          const reason = t ? t.reason : 'Target.NotRegistered'
          const description = t ? t.description : 'Target is not registered to the target group'
          return (
            `<member><Target><Id>${esc(id)}</Id><Port>${port}</Port>${g.targetType === 'ip' && model.zones.has(id) ? `<AvailabilityZone>${esc(model.zones.get(id) as string)}</AvailabilityZone>` : ''}</Target><HealthCheckPort>${port}</HealthCheckPort>` +
            `<TargetHealth><State>${state}</State>${reason ? `<Reason>${reason}</Reason>` : ''}${description ? `<Description>${esc(description)}</Description>` : ''}</TargetHealth></member>`
          )
        })
        .join('')
      return `<TargetHealthDescriptions>${members}</TargetHealthDescriptions>`
    }
    case 'RegisterTargets': {
      const g = needGroup(p.TargetGroupArn)
      const targets = targetsOf(p)
      if (targets.length === 0) throw new ApiError('ValidationError', 'Targets must not be empty')
      for (const t of targets) {
        if (g.targetType === 'instance' && !instances.has(t.id)) throw new ApiError('InvalidTarget', `The following targets are not valid: '${t.id}'`)
      }
      for (const t of targets) model.register(g, t.id, t.port)
      return ''
    }
    case 'DeregisterTargets': {
      const g = needGroup(p.TargetGroupArn)
      const targets = targetsOf(p)
      if (targets.length === 0) throw new ApiError('ValidationError', 'Targets must not be empty')
      for (const t of targets) model.deregister(g, t.id, t.port)
      return ''
    }
    default:
      throw new ApiError('InvalidAction', `Could not find operation ${action} for version 2015-12-01`)
  }
}
