// The executor's durations go through the core's one check: above Node's timer ceiling
// (2^31-1 ms) they are refused by name instead of being clamped by Node to 1 ms.
import { describe, expect, it } from 'vitest'
import { sshExecutor } from '../src/index.js'

const TOO_LONG = (option: string) =>
  `[rolling] invalid option \`${option}\`: 3000000000 ms is above the largest timer Node supports (2147483647 ms, ~24.8 days)`
const base = { username: 'deploy', agent: '/nonexistent/agent.sock', hostKeys: { knownHosts: '/dev/null' } }

describe('sshExecutor durations above the timer ceiling', () => {
  it.each([
    ['connectTimeoutMs', { connectTimeoutMs: 3e9 }],
    ['retry.minTimeoutMs', { retry: { minTimeoutMs: 3e9 } }],
    ['retry.maxTimeoutMs', { retry: { maxTimeoutMs: 3e9 } }],
    ['commandTimeoutMs', { commandTimeoutMs: 3e9 }],
    ['keepaliveIntervalMs', { keepaliveIntervalMs: 3e9 }],
    ['idleTimeoutMs', { idleTimeoutMs: 3e9 }],
    ['killGraceMs', { killGraceMs: 3e9 }],
  ] as const)('refuses %s: 3e9', (option, extra) => {
    expect(() => sshExecutor({ ...base, ...extra } as never)).toThrow(TOO_LONG(option))
  })
})
