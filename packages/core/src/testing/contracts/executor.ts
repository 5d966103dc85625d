// The shared contract suite for Executor adapters, run against a real shell on the
// target. Hostile values must come back as text, never run: that is the guarantee
// `shellQuote` gives only when the executor passes the command line through intact.
import { expect } from 'vitest'
import type { AdapterContext, Executor, ExecRequest, Target } from '../../types.js'
import { shellQuote } from '../../shell.js'
import { catchEscapes, contractContext, contractSuite, isAbortRejection, randomSuffix, rejection, within, type ContractOptions } from './suite.js'

export interface ExecutorFixture {
  executor: Executor
  /** A host with a POSIX shell, `printf`, `sleep` and a writable /tmp. */
  target: Target
  ctx?: Partial<AdapterContext>
  teardown?(): Promise<void>
  /**
   * Broken hosts for the fault tests; without them those tests fail (list them in `skip`,
   * saying why, only when the transport truly has no such failure).
   */
  faults?: ExecutorFaults
}

/** An executor wired to one broken host. */
export interface FaultyHost {
  executor: Executor
  target: Target
  teardown?(): Promise<void>
}

export interface ExecutorFaults {
  /** Nothing listens where the host should be: the connection is refused. */
  refused(): Promise<FaultyHost>
  /** The host accepts the connection and never answers (a black hole). */
  silent(): Promise<FaultyHost>
  /** A reachable host; `drop()` cuts its connection (or kills its agent) while a command runs. */
  dropping(): Promise<FaultyHost & { drop(): Promise<void> }>
}

export const executorTests = {
  stdout: 'runs a command and captures stdout',
  exitCode: 'resolves with a non-zero exit code',
  stderr: 'captures stderr separately from stdout',
  ordered: 'streams all output through ctx.output in order',
  live: 'streams output while the command runs',
  quoting: 'shell-quoted values round-trip exactly',
  injection: 'shell-quoted values never run as commands',
  env: 'passes env to the command',
  timeout: 'timeoutMs rejects with EXEC_TIMEOUT',
  abort: 'abort stops a running command',
  secrets: 'masks secrets in streamed output and the result',
  refused: 'a refused connection fails the call in its deadline and the process lives',
  silent: 'a host that accepts and never answers fails the call in its deadline and the process lives',
  dropped: 'a connection dropped mid-command fails the call in its deadline and the process lives',
} as const

export type ExecutorTestName = (typeof executorTests)[keyof typeof executorTests]

export function testExecutor(options: ContractOptions<ExecutorFixture, ExecutorTestName>): void {
  const t = executorTests
  contractSuite('Executor', t, options, (test, get) => {
    const run = (request: string | ExecRequest, extra?: Partial<AdapterContext>) => get().executor.run(get().target, request, contractContext(get().ctx, extra))
    const collect = () => {
      const chunks: { stream: 'stdout' | 'stderr'; chunk: string; at: number }[] = []
      const output = (stream: 'stdout' | 'stderr', chunk: string) => void chunks.push({ stream, chunk, at: performance.now() })
      const joined = (stream: 'stdout' | 'stderr') =>
        chunks
          .filter((c) => c.stream === stream)
          .map((c) => c.chunk)
          .join('')
      return { chunks, output, joined }
    }
    const pwned = `/tmp/rolling-pwned-${randomSuffix()}`
    const hostile = [
      `1.0; touch ${pwned}`,
      `$(touch ${pwned})`,
      `\`touch ${pwned}\``,
      `1.0 && touch ${pwned} || touch ${pwned}`,
      `| touch ${pwned}`,
      '$(id)',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal shell expansion is the point
      '$HOME ${HOME} $((1+1))',
      "it's",
      "''",
      'say "hi"',
      'line one\nline two\n',
      '  spaced   out  ',
      'tab\there',
      '',
      '*',
      '\\ back\\slash',
      '-n',
      '%s %d',
      'ünïcødé ✓',
    ]

    test(t.stdout, async () => {
      const result = await within(20_000, 'echo hello', run('echo hello'))
      expect(result.exitCode).toBe(0)
      expect(result.stdout).toBe('hello\n')
      expect(result.stderr).toBe('')
      expect(result.durationMs).toBeGreaterThanOrEqual(0)
    })

    test(t.exitCode, async () => {
      const result = await within(20_000, 'exit 3', run({ command: 'exit 3' }))
      expect(result.exitCode).toBe(3)
    })

    test(t.stderr, async () => {
      const result = await within(20_000, 'stdout and stderr', run({ command: 'echo out; echo err >&2' }))
      expect(result.exitCode).toBe(0)
      expect(result.stdout).toBe('out\n')
      expect(result.stderr).toBe('err\n')
    })

    test(t.ordered, async () => {
      const { output, joined } = collect()
      const command = 'for i in 1 2 3 4 5; do echo "line $i"; done; echo problem >&2'
      const result = await within(20_000, 'a loop', run({ command }, { output }))
      const expected = ['1', '2', '3', '4', '5'].map((i) => `line ${i}\n`).join('')
      expect(joined('stdout')).toBe(expected)
      expect(joined('stderr')).toBe('problem\n')
      expect(result.stdout).toBe(expected)
    })

    test(t.live, async () => {
      const { chunks, output } = collect()
      await within(20_000, 'a slow command', run({ command: 'echo first; sleep 1; echo second' }, { output }))
      const done = performance.now()
      const first = chunks.find((c) => c.chunk.includes('first'))
      expect(first, 'no chunk with "first" was streamed').toBeDefined()
      // Output buffered until the end would arrive together with the resolution.
      expect(done - (first?.at ?? done)).toBeGreaterThan(500)
    })

    test(t.quoting, async () => {
      for (const value of hostile) {
        const result = await within(20_000, `printf of ${JSON.stringify(value)}`, run({ command: `printf %s ${shellQuote(value)}` }))
        expect(result.stdout, `round-trip of ${JSON.stringify(value)}`).toBe(value)
        expect(result.exitCode).toBe(0)
      }
    })

    test(t.injection, async () => {
      for (const value of hostile) await run({ command: `printf %s ${shellQuote(value)} >/dev/null` })
      const check = await run({ command: `if test -e ${shellQuote(pwned)}; then echo present; else echo absent; fi` })
      expect(check.stdout).toBe('absent\n')
    })

    test(t.env, async () => {
      const value = `a b'c "d" $HOME ${randomSuffix()}`
      const result = await within(20_000, 'env', run({ command: 'printf %s "$ROLLING_CONTRACT_VALUE"', env: { ROLLING_CONTRACT_VALUE: value } }))
      expect(result.stdout).toBe(value)
    })

    test(t.timeout, async () => {
      const started = performance.now()
      const error = await rejection(within(15_000, 'sleep 30 with timeoutMs 500', run({ command: 'sleep 30', timeoutMs: 500 })))
      expect(error).toMatchObject({ code: 'EXEC_TIMEOUT' })
      expect(performance.now() - started).toBeGreaterThanOrEqual(400)
    })

    test(t.abort, async () => {
      const controller = new AbortController()
      const reason = new Error('contract abort')
      const pending = run({ command: 'sleep 30' }, { signal: controller.signal })
      await new Promise((resolve) => setTimeout(resolve, 300))
      controller.abort(reason)
      const error = await rejection(within(2500, 'sleep 30 after abort', pending))
      expect(isAbortRejection(error, reason), `expected the abort reason or an AbortError, got ${String(error)}`).toBe(true)
    })

    test(t.secrets, async () => {
      const secret = `s3cr3t-${randomSuffix()}`
      const { output, joined } = collect()
      const command = `printf 'token %s\\n' ${shellQuote(secret)}; printf 'err %s\\n' ${shellQuote(secret)} >&2`
      const result = await within(20_000, 'secret output', run({ command, secrets: [secret] }, { output }))
      expect(result.stdout).toBe('token ***\n')
      expect(result.stderr).toBe('err ***\n')
      expect(joined('stdout') + joined('stderr')).not.toContain(secret)
      expect(joined('stdout')).toContain('***')
    })

    const escaped = catchEscapes()
    const faults = (): ExecutorFaults => {
      const found = get().faults
      if (!found) throw new Error('the fixture provides no `faults` (refused, silent, dropping): every executor must show how it fails')
      return found
    }
    // The call's own deadline; the bound adds the kill grace and a reconnect attempt or two.
    const deadlineMs = 3000
    const boundMs = deadlineMs + 7000
    const failsCleanly = async (host: FaultyHost, pending: Promise<unknown>, what: string) => {
      const started = performance.now()
      const outcome = await within(boundMs, what, pending).then(
        (result) => ({ result }),
        (error: unknown) => ({ error }),
      )
      expect(performance.now() - started, `${what} took longer than its deadline allows`).toBeLessThan(boundMs)
      if ('error' in outcome) {
        // A clear error: the adapter's own, with a stable code and a message naming the host.
        expect(outcome.error).toBeInstanceOf(Error)
        expect(typeof (outcome.error as { code?: unknown }).code, `no stable code on ${String(outcome.error)}`).toBe('string')
        expect((outcome.error as Error).message.length).toBeGreaterThan(10)
      } else {
        // A transport that reports the kill as the command's own end: never a success.
        const result = outcome.result as { exitCode: number | null; signal: string | null }
        expect(result.exitCode === 0 && result.signal === null, `${what} reported success`).toBe(false)
      }
      // A second emit after the rejection is the crash this guards against: give it time.
      await new Promise((resolve) => setTimeout(resolve, 500))
      expect(escaped, 'errors escaped to the process').toEqual([])
      await host.teardown?.()
    }

    test(t.refused, async () => {
      const host = await faults().refused()
      await failsCleanly(
        host,
        host.executor.run(host.target, { command: 'echo never', timeoutMs: deadlineMs }, contractContext(get().ctx)),
        'a call to a refused host',
      )
    })

    test(t.silent, async () => {
      const host = await faults().silent()
      await failsCleanly(
        host,
        host.executor.run(host.target, { command: 'echo never', timeoutMs: deadlineMs }, contractContext(get().ctx)),
        'a call to a silent host',
      )
    })

    test(t.dropped, async () => {
      const host = await faults().dropping()
      const pending = host.executor.run(host.target, { command: 'echo started; sleep 30', timeoutMs: 20_000 }, contractContext(get().ctx))
      pending.catch(() => {})
      await new Promise((resolve) => setTimeout(resolve, 700))
      await host.drop()
      await failsCleanly(host, pending, 'a command whose connection dropped')
    })
  })
}
