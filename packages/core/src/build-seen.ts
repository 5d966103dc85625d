// Which build a target reports running, compared with the one being deployed: the rule
// behind settle's "still running v1", the fleet check, verify, and `already on v2`.
import type { Artifact, Health } from './types.js'

/** What a health answer says of the build: ours, another, or it does not say. */
export type BuildSeen = 'new' | 'other' | 'unknown'

/** Which build a health answer reports, against the one being deployed. */
export function buildSeen(health: Health, artifact: Artifact): BuildSeen {
  if (health.version === undefined && health.builtAt === undefined) return 'unknown'
  if (health.version !== undefined && health.version !== artifact.version) return 'other'
  if (health.builtAt !== undefined && !sameTime(health.builtAt, artifact.builtAt)) return 'other'
  return 'new'
}

/** `v1`, or `v1 built 2026-01-02T03:04:05Z` when the build time is known. */
export function describeBuild(build: { version?: string; builtAt?: string }): string {
  const version = build.version ?? 'an unnamed build'
  return build.builtAt === undefined ? version : `${version} built ${build.builtAt}`
}

/** Two build times name the same build: equal instants, or equal strings when unparseable. */
export function sameTime(a: string, b: string): boolean {
  if (a === b) return true
  const x = Date.parse(a)
  return !Number.isNaN(x) && x === Date.parse(b)
}
