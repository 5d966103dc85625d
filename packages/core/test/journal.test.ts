// The journal is what makes a crashed rollout resumable: these tests write real files,
// tear and corrupt them, and SIGKILL a writer to check that every returned append survives.
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { RollingError } from '../src/errors.js'
import { fileJournal, memoryJournal, type Journal } from '../src/journal.js'

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rolling-journal-'))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))
let n = 0
const fresh = () => path.join(tmp, `run-${++n}`, 'journal.jsonl') // a missing parent dir, on purpose

async function catchError(promise: Promise<unknown>): Promise<RollingError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(RollingError)
  return error as RollingError
}

describe.each([
  ['file', () => fileJournal(fresh())],
  ['memory', () => memoryJournal()],
] as const)('%s journal', (_kind, make: () => Journal & { readonly bytes: number }) => {
  it('reads back what was appended, in order', async () => {
    const journal = make()
    expect(await journal.read()).toEqual([])
    const records = [
      { type: 'rollout:start', service: 'checkout', at: 1 },
      { type: 'target:detached', target: { id: 'web-1', address: '127.0.0.2' }, note: 'línea\nnueva ✓' },
      { type: 'rollout:end', status: 'succeeded' },
    ]
    for (const r of records) journal.append(r)
    expect(await journal.read()).toEqual(records)
    await journal.close()
  })

  it('counts bytes written since reset, and reset empties it', async () => {
    const journal = make()
    journal.append({ type: 'a' })
    journal.append({ type: 'é' })
    expect(journal.bytes).toBe(Buffer.byteLength('{"type":"a"}\n{"type":"é"}\n'))
    await journal.reset()
    expect(journal.bytes).toBe(0)
    expect(await journal.read()).toEqual([])
    journal.append({ type: 'b' })
    expect(await journal.read()).toEqual([{ type: 'b' }])
    expect(journal.bytes).toBe(13)
    await journal.close()
  })

  it('refuses a record it could not read back', () => {
    const journal = make()
    const circular: Record<string, unknown> = { type: 'loop' }
    circular.self = circular
    expect(() => journal.append(circular as { type: string })).toThrow(/cannot serialize a loop record/)
    expect(() => journal.append({} as { type: string })).toThrow(/needs a string `type`/)
  })
})

describe('fileJournal', () => {
  it('ignores a torn last line, and the next run does not glue onto it', async () => {
    const file = fresh()
    const journal = fileJournal(file)
    journal.append({ type: 'a' })
    journal.append({ type: 'b' })
    await journal.close()
    fs.appendFileSync(file, '{"type":"c","tar') // what a crash mid-write leaves
    expect(await fileJournal(file).read()).toEqual([{ type: 'a' }, { type: 'b' }])

    const resumed = fileJournal(file)
    resumed.append({ type: 'd' })
    expect(await resumed.read()).toEqual([{ type: 'a' }, { type: 'b' }, { type: 'd' }])
    await resumed.close()
  })

  it('throws JOURNAL naming the line when a middle line is corrupt', async () => {
    const file = fresh()
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.writeFileSync(file, '{"type":"a"}\n{"type":"b"}\n{"type": oops}\n{"type":"d"}\n')
    const error = await catchError(fileJournal(file).read())
    expect(error.code).toBe('JOURNAL')
    expect(error.message).toBe(`[rolling] journal ${file} is corrupt at line 3`)

    fs.writeFileSync(file, '{"type":"a"}\n[1,2]\n')
    expect((await catchError(fileJournal(file).read())).message).toMatch(/corrupt at line 2/)
  })

  it('reset truncates the file', async () => {
    const file = fresh()
    const journal = fileJournal(file, { fsync: true })
    journal.append({ type: 'a' })
    await journal.reset()
    expect(fs.statSync(file).size).toBe(0)
    journal.append({ type: 'b' })
    expect(fs.readFileSync(file, 'utf8')).toBe('{"type":"b"}\n')
    await journal.close()
    expect(() => journal.append({ type: 'c' })).toThrow(/append after close/)
  })

  it('appends 200,000 records quickly', async () => {
    const file = fresh()
    const journal = fileJournal(file)
    const count = 200_000
    const started = performance.now()
    for (let i = 0; i < count; i++) journal.append({ type: 'target:healthy', target: `web-${i % 50}`, i })
    const ms = performance.now() - started
    console.log(`fileJournal: ${count} appends in ${ms.toFixed(0)} ms (${((ms * 1000) / count).toFixed(2)} µs each, ${journal.bytes} bytes)`)
    await journal.close()
    expect(ms).toBeLessThan(20_000)
    expect(journal.bytes).toBe(fs.statSync(file).size)
    const records = await fileJournal(file).read()
    expect(records).toHaveLength(count)
    expect(records[count - 1]).toEqual({ type: 'target:healthy', target: `web-${(count - 1) % 50}`, i: count - 1 })
  }, 60_000)

  it('keeps every returned append when the writer is SIGKILLed', async () => {
    const file = fresh()
    const count = 5000
    // The child loads the real module; Node 20 cannot load .ts itself, so tsx does.
    const script = `
      const { fileJournal } = await import(${JSON.stringify(new URL('../src/journal.ts', import.meta.url).href)})
      const journal = fileJournal(${JSON.stringify(file)})
      for (let i = 0; i < ${count}; i++) journal.append({ type: 'step', i })
      process.kill(process.pid, 'SIGKILL')
    `
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href
    const child = spawnSync(process.execPath, ['--import', tsx, '--input-type=module', '-e', script], { encoding: 'utf8' })
    expect(child.stderr).toBe('')
    expect(child.signal).toBe('SIGKILL')
    const records = await fileJournal(file).read()
    expect(records).toHaveLength(count)
    expect(records.every((r, i) => r.i === i)).toBe(true)
  }, 30_000)
})

describe('memoryJournal', () => {
  it('keeps records as JSON would give them back, and read returns copies', async () => {
    const journal = memoryJournal()
    expect(journal.location).toBe('memory')
    journal.append({ type: 'a', when: new Date(0), gone: undefined })
    expect(journal.records).toEqual([{ type: 'a', when: '1970-01-01T00:00:00.000Z' }])
    const [first] = await journal.read()
    if (first) first.type = 'mutated'
    expect(journal.records[0]?.type).toBe('a')
  })
})
