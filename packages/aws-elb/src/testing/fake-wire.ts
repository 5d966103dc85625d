// Wire helpers of the fake ELBv2/EC2 endpoint: Query-protocol lists, API errors, XML
// escaping, and the opaque page tokens both services hand out (Marker, NextToken).

/** An error answered on the wire with its AWS error code. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message)
  }
}

export const key = (id: string, port: number) => `${id}:${port}`

// Query-protocol lists: `Names.member.1`, `Targets.member.2.Id`.
export function list(p: Record<string, string>, name: string): string[] {
  const out: string[] = []
  for (let i = 1; p[`${name}.member.${i}`] !== undefined; i++) out.push(p[`${name}.member.${i}`] as string)
  return out
}

export function targetsOf(p: Record<string, string>): { id: string; port: number | undefined }[] {
  const out: { id: string; port: number | undefined }[] = []
  for (let i = 1; p[`Targets.member.${i}.Id`] !== undefined; i++) {
    const port = p[`Targets.member.${i}.Port`]
    out.push({ id: p[`Targets.member.${i}.Id`] as string, port: port === undefined ? undefined : Number(port) })
  }
  return out
}

export function esc(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

/** An optional integer parameter within [min, max]; `error` names the AWS error code of the service. */
export function intParam(p: Record<string, string>, name: string, min: number, max: number, error: string): number | undefined {
  const raw = p[name]
  if (raw === undefined) return undefined
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ApiError(error, `Value '${raw}' at '${name}' failed to satisfy constraint: Member must have value between ${min} and ${max}`)
  }
  return value
}

/**
 * One page of `items` from the offset `token` names; `next` is the token of the following
 * page, absent on the last. Tokens are opaque to clients, as AWS's are.
 */
export function page<T>(items: readonly T[], size: number, token: string | undefined, error: string): { items: T[]; next?: string } {
  let start = 0
  if (token !== undefined) {
    const match = /^page:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'))
    start = match ? Number(match[1]) : -1
    if (start < 0 || start > items.length) throw new ApiError(error, `Invalid pagination token: ${token}`)
  }
  const end = start + size
  return end < items.length ? { items: items.slice(start, end), next: Buffer.from(`page:${end}`).toString('base64url') } : { items: items.slice(start) }
}
