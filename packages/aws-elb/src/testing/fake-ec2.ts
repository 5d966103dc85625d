// EC2 DescribeInstances for the fake endpoint, paginated as EC2 does: at most 1000
// instances per answer, `MaxResults` (5..1000) and `NextToken`, and `MaxResults` refused
// together with explicit instance ids.
import { randomUUID } from 'node:crypto'
import { ApiError, esc, intParam, page } from './fake-wire.js'

const EC2_NS = 'http://ec2.amazonaws.com/doc/2016-11-15/'
const ACCOUNT = '123456789012'
/** The most instances EC2 returns in one answer. */
export const EC2_PAGE_MAX = 1000

/** Answers DescribeInstances from `instances` (instance id → private IP). */
export function describeInstances(instances: ReadonlyMap<string, string>, p: Record<string, string>, zones?: ReadonlyMap<string, string>): string {
  const ids = Object.keys(p)
    .filter((k) => /^InstanceId\.\d+$/.test(k))
    .sort((a, b) => Number(a.slice(11)) - Number(b.slice(11)))
    .map((k) => p[k] as string)
  const maxResults = intParam(p, 'MaxResults', 5, EC2_PAGE_MAX, 'InvalidParameterValue')
  if (maxResults !== undefined && ids.length > 0) {
    throw new ApiError('InvalidParameterCombination', 'The parameter instancesSet cannot be used with the parameter maxResults')
  }
  const missing = ids.filter((id) => !instances.has(id))
  if (missing.length > 0) throw new ApiError('InvalidInstanceID.NotFound', `The instance IDs '${missing.join(', ')}' do not exist`)
  const chosen = page(ids.length === 0 ? [...instances.keys()] : ids, maxResults ?? EC2_PAGE_MAX, p.NextToken, 'InvalidParameterValue')
  const items = chosen.items
    .map(
      (id) =>
        `<item><instanceId>${esc(id)}</instanceId><instanceState><code>16</code><name>running</name></instanceState>` +
        `<privateIpAddress>${esc(instances.get(id) ?? '')}</privateIpAddress>` +
        `${zones?.has(id) ? `<placement><availabilityZone>${esc(zones.get(id) as string)}</availabilityZone></placement>` : ''}</item>`,
    )
    .join('')
  const reservation = `<item><reservationId>r-0fake</reservationId><ownerId>${ACCOUNT}</ownerId><groupSet/><instancesSet>${items}</instancesSet></item>`
  return (
    `<DescribeInstancesResponse xmlns="${EC2_NS}"><requestId>${randomUUID()}</requestId>` +
    `<reservationSet>${chosen.items.length ? reservation : ''}</reservationSet>` +
    `${chosen.next ? `<nextToken>${chosen.next}</nextToken>` : ''}</DescribeInstancesResponse>`
  )
}
