// The local executor against real processes: exit codes, streaming, env, timeouts and aborts
// that must take the whole process group down, secret masking and shell-quoting.
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { localExecutor } from '../../src/local/executor.js'
import { RollingError } from '../../src/errors.js'
import { shellQuote } from '../../src/shell.js'
import type { Target } from '../../src/types.js'
import { isDead, testContext } from './_ctx.js'

const target: Target = { id: 'web-1', address: '127.0.0.2', port: 8080 }
const tmp = mkdtempSync(join(tmpdir(), 'rolling-exec-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

/** Pids a command printed as `pid:<n>` lines on stdout. */
function printedPids(chunks: { chunk: string }[]): number[] {
  return [
    ...chunks
      .map((c) => c.chunk)
      .join('')
      .matchAll(/pid:(\d+)/g),
  ].map((m) => Number(m[1]))
}

async function waitForPids(ctx: ReturnType<typeof testContext>, count: number): Promise<void> {
  for (let i = 0; i < 200 && printedPids(ctx.chunks).length < count; i++) await new Promise((r) => setTimeout(r, 10))
}

describe('localExecutor', () => {
  const exec = localExecutor()

  it('resolves with exit code, stdout and stderr, also for a non-zero exit', async () => {
    const ok = await exec.run(target, 'echo hello', testContext())
    expect(ok).toMatchObject({ exitCode: 0, signal: null, stdout: 'hello\n', stderr: '' })
    expect(exec.name).toBe('local')
    const bad = await exec.run(target, { command: 'echo oops >&2; exit 3' }, testContext())
    expect(bad).toMatchObject({ exitCode: 3, signal: null, stdout: '', stderr: 'oops\n' })
  })

  it('reports a process ended by a signal', async () => {
    const result = await exec.run(target, 'kill -TERM $$', testContext())
    expect(result).toMatchObject({ exitCode: null, signal: 'SIGTERM' })
  })

  it('streams stdout and stderr chunks in the order they were written', async () => {
    const ctx = testContext()
    await exec.run(target, 'echo a; sleep 0.05; echo b >&2; sleep 0.05; echo c', ctx)
    expect(ctx.chunks).toEqual([
      { stream: 'stdout', chunk: 'a\n' },
      { stream: 'stderr', chunk: 'b\n' },
      { stream: 'stdout', chunk: 'c\n' },
    ])
  })

  it('does not split a multi-byte character across chunks', async () => {
    const ctx = testContext()
    const result = await exec.run(target, "printf '\\303'; sleep 0.05; printf '\\251\\n'", ctx)
    expect(result.stdout).toBe('é\n')
    expect(ctx.chunks.map((c) => c.chunk).join('')).toBe('é\n')
    expect(ctx.chunks.some((c) => c.chunk.includes('\uFFFD'))).toBe(false)
  })

  it('passes the target, per-target and request env, and the cwd', async () => {
    const withEnv = localExecutor({ env: (t) => ({ SHARD: t.id, BOTH: 'target' }), cwd: () => tmp })
    const result = await withEnv.run(
      target,
      { command: 'echo "$ROLLING_TARGET_ID $ROLLING_TARGET_ADDRESS $ROLLING_TARGET_PORT $SHARD $BOTH $ONLY"; pwd', env: { BOTH: 'request', ONLY: 'x' } },
      testContext(),
    )
    expect(result.stdout).toBe(`web-1 127.0.0.2 8080 web-1 request x\n${tmp}\n`)
    const noPort = await exec.run({ id: 'h', address: '::1' }, { command: 'echo "[$' + '{ROLLING_TARGET_PORT-unset}]"', cwd: '/' }, testContext())
    expect(noPort.stdout).toBe('[unset]\n')
  })

  it('measures durationMs in real time even with a frozen clock', async () => {
    const ctx = { ...testContext(), clock: { ...testContext().clock, now: () => 0 } }
    const result = await exec.run(target, 'sleep 0.1', ctx)
    expect(result.durationMs).toBeGreaterThanOrEqual(90)
    expect(result.durationMs).toBeLessThan(5000)
  })

  it('on timeout kills the whole process group and rejects with EXEC_TIMEOUT', async () => {
    const ctx = testContext()
    const started = performance.now()
    const error = await exec.run(target, { command: 'sleep 30 & echo pid:$!; echo pid:$$; sleep 30', timeoutMs: 300 }, ctx).catch((e: unknown) => e)
    expect(performance.now() - started).toBeLessThan(2000)
    expect(error).toBeInstanceOf(RollingError)
    expect(error).toMatchObject({ code: 'EXEC_TIMEOUT' })
    expect((error as Error).message).toBe(
      '[rolling:local] command on web-1 (127.0.0.2:8080) timed out after 300ms: sleep 30 & echo pid:$!; echo pid:$$; sleep 30',
    )
    const pids = printedPids(ctx.chunks)
    expect(pids).toHaveLength(2)
    for (const pid of pids) expect(await isDead(pid)).toBe(true)
  })

  it('escalates to SIGKILL for a grandchild that ignores SIGTERM', async () => {
    const quick = localExecutor({ killGraceMs: 200 })
    const ctx = testContext()
    // An ignored signal stays ignored across exec, so this sleep survives SIGTERM.
    const run = quick.run(target, { command: "trap '' TERM; sleep 30 & echo pid:$!; wait", timeoutMs: 200 }, ctx)
    await expect(run).rejects.toMatchObject({ code: 'EXEC_TIMEOUT' })
    const [pid] = printedPids(ctx.chunks)
    expect(pid).toBeDefined()
    for (let i = 0; i < 100 && !(await isDead(pid as number)); i++) await new Promise((r) => setTimeout(r, 20))
    expect(await isDead(pid as number)).toBe(true)
  })

  it('on abort kills the process group and rejects with the signal reason', async () => {
    const ctx = testContext()
    const run = exec.run(target, 'sleep 30 & echo pid:$!; sleep 30', ctx)
    await waitForPids(ctx, 1)
    const reason = new Error('operator cancelled')
    ctx.controller.abort(reason)
    await expect(run).rejects.toBe(reason)
    const [pid] = printedPids(ctx.chunks)
    expect(await isDead(pid as number)).toBe(true)
  })

  it('rejects at once when the signal is already aborted, running nothing', async () => {
    const ctx = testContext()
    ctx.controller.abort()
    const marker = join(tmp, 'never-ran')
    await expect(exec.run(target, `touch ${shellQuote(marker)}`, ctx)).rejects.toMatchObject({ name: 'AbortError' })
    expect(existsSync(marker)).toBe(false)
  })

  it('masks secrets in streamed chunks, in the result and in the timeout message', async () => {
    const secret = 's3cr3t-token'
    const ctx = testContext()
    // The secret is written in two pieces, so it straddles two chunks.
    const result = await exec.run(
      target,
      { command: `echo "a=${secret}"; printf 'b=s3cr'; sleep 0.1; printf '3t-token end\\n'; echo "${secret}" >&2`, secrets: [secret] },
      ctx,
    )
    expect(result.stdout).toBe('a=***\nb=*** end\n')
    expect(result.stderr).toBe('***\n')
    expect(ctx.chunks.length).toBeGreaterThan(2)
    for (const { chunk } of ctx.chunks) expect(chunk).not.toMatch(/s3cr/)
    expect(ctx.chunks.map((c) => c.chunk).join('')).toBe('a=***\nb=*** end\n***\n')

    const error = await exec.run(target, { command: `sleep 5 # ${secret}`, timeoutMs: 100, secrets: [secret] }, testContext()).catch((e: unknown) => e)
    expect((error as Error).message).toContain('sleep 5 # ***')
    expect((error as Error).message).not.toContain(secret)
  })

  it('never executes what shellQuote quoted', async () => {
    const marker = join(tmp, 'pwned')
    const payloads = [
      `$(touch ${marker})`,
      `\`touch ${marker}\``,
      `; touch ${marker}`,
      `' ; touch ${marker}; echo '`,
      `x\ntouch ${marker}`,
      `| touch ${marker} && touch ${marker} || touch ${marker} > ${marker}`,
    ]
    for (const payload of payloads) {
      const result = await exec.run(target, `printf '%s' ${shellQuote(payload)}`, testContext())
      expect(result.stdout).toBe(payload)
    }
    expect(existsSync(marker)).toBe(false)
  })

  it('keeps only the tail of a large output in the result while streaming all of it', async () => {
    const capped = localExecutor({ maxOutputChars: 1000 })
    const ctx = testContext()
    const result = await capped.run(target, 'i=0; while [ $i -lt 2000 ]; do echo line$i; i=$((i+1)); done', ctx)
    expect(result.stdout).toHaveLength(1000)
    expect(result.stdout.endsWith('line1999\n')).toBe(true)
    const streamed = ctx.chunks.map((c) => c.chunk).join('')
    expect(streamed.startsWith('line0\nline1\n')).toBe(true)
    expect(streamed.endsWith(result.stdout)).toBe(true)
  })

  it('survives an output listener that throws', async () => {
    const ctx = {
      ...testContext(),
      output: () => {
        throw new Error('sink down')
      },
    }
    const result = await exec.run(target, 'echo fine', ctx)
    expect(result.stdout).toBe('fine\n')
  })

  it('rejects with ADAPTER when the command cannot start', async () => {
    await expect(exec.run(target, { command: 'true', cwd: join(tmp, 'missing') }, testContext())).rejects.toMatchObject({
      code: 'ADAPTER',
      message: expect.stringContaining('cannot start /bin/sh in'),
    })
  })

  it('validates options and requests', async () => {
    expect(() => localExecutor({ killGraceMs: -1 })).toThrow(/killGraceMs/)
    await expect(exec.run(target, '  ', testContext())).rejects.toMatchObject({ code: 'INVALID_OPTION' })
    await expect(exec.run(target, { command: 'true', timeoutMs: 0 }, testContext())).rejects.toThrow(/timeoutMs/)
  })
})
