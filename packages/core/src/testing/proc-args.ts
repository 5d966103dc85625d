// Samples the argv of every process on this machine (/proc/*/cmdline) while something runs,
// for tests that prove a secret never reaches process arguments, where `ps` shows it to
// every user of the host. Linux only; on loopback the "remote" host is this machine.
import { readFileSync, readdirSync } from 'node:fs'

export interface ArgvSampler {
  /** Every distinct command line seen, arguments joined by spaces. */
  readonly seen: ReadonlySet<string>
  stop(): Promise<void>
}

/** Reads every /proc/<pid>/cmdline each `everyMs` until stopped. */
export function sampleArgv(everyMs = 10): ArgvSampler {
  const seen = new Set<string>()
  const sample = () => {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue
      try {
        const line = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').join(' ').trim()
        if (line) seen.add(line)
      } catch {
        // The process ended between readdir and read.
      }
    }
  }
  sample()
  const timer = setInterval(sample, everyMs)
  return {
    seen,
    async stop() {
      clearInterval(timer)
      sample()
    },
  }
}
