// The bridge to @org/rolling-haproxy, loaded on demand: a fleet on the Node load balancer
// never loads it, and `lb: 'auto'` falls back to the Node one when the haproxy binary
// (or the package) is missing instead of failing.
import type * as Haproxy from '@org/rolling-haproxy'

export type HaproxyModule = typeof Haproxy

/** The haproxy package and binary, or why they cannot be used. */
export async function haproxyAvailable(): Promise<{ module: HaproxyModule; binary: string } | { error: string }> {
  let module: HaproxyModule
  try {
    module = await import('@org/rolling-haproxy')
  } catch (error) {
    return { error: `cannot load @org/rolling-haproxy: ${(error as Error).message}` }
  }
  const binary = module.findHaproxy()
  return binary ? { module, binary } : { error: 'haproxy is not installed (looked on PATH, /usr/sbin, /usr/local/sbin)' }
}
