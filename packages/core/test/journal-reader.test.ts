// The journal is not trusted as written: every record is checked on read, a transition the
// engine cannot make is refused with its file and line, and state files are opened without
// following symlinks and kept 0600 in a 0700 folder whatever the umask.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { fileJournal, fileLock, memoryJournal, readJournal, resume, type Hooks, type RolloutOptions, type StoredRecord } from '@org/rolling-core'
import { setup } from './engine/_fixture.js'

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rolling-journal-reader-'))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))
let n = 0
const freshDir = () => path.join(tmp, `state-${++n}`)
const never = () => new Promise<never>(() => {})

/** A rollout of 4 targets in batches of 2 frozen after host-1's deploy (a crash stand-in); its journal copied to a file. */
async function interrupted(): Promise<{ fx: ReturnType<typeof setup>; file: string; records: StoredRecord[] }> {
  const fx = setup({ size: 4 })
  const hooks: Hooks = { afterDeploy: ({ target }) => (target.id === 'host-1' ? never() : undefined) }
  void fx.run({ batch: 2, hooks })
  await new Promise((r) => setTimeout(r, 100))
  const records = structuredClone(fx.journal.records)
  const file = path.join(freshDir(), 'checkout.journal.jsonl')
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, records.map((r) => `${JSON.stringify(r)}\n`).join(''))
  return { fx, file, records }
}

async function resumeFrom(fx: ReturnType<typeof setup>, file: string) {
  const journal = fileJournal(file)
  try {
    return await resume({ ...fx.options({ batch: undefined }), journal, lock: fileLock({ dir: path.dirname(file) }), hooks: {} } as RolloutOptions)
  } finally {
    await journal.close()
  }
}

describe('resume refuses a journal the engine could not have written, naming file:line', () => {
  it('the interrupted journal itself resumes (the control)', async () => {
    const { fx, file } = await interrupted()
    const result = await resumeFrom(fx, file)
    expect(result.status).toBe('succeeded')
  })

  it('a `done` appended for an in-flight target', async () => {
    const { fx, file, records } = await interrupted()
    const inFlight = records.findLast((r) => r.type === 't') as unknown as { i: number; s: string }
    expect(inFlight.s).not.toBe('attaching')
    fs.appendFileSync(file, `${JSON.stringify({ type: 't', i: inFlight.i, s: 'done' })}\n`)
    const line = records.length + 1
    const id = (records[0] as unknown as { targets: { id: string }[] }).targets[inFlight.i]?.id
    await expect(resumeFrom(fx, file)).rejects.toThrow(`[rolling] journal ${file}:${line}: ${id} cannot go from ${inFlight.s} to done (only to `)
  })

  it('a batch index out of range', async () => {
    const { fx, file, records } = await interrupted()
    fs.appendFileSync(file, '{"type":"batch","i":99}\n')
    await expect(resumeFrom(fx, file)).rejects.toThrow(
      `[rolling] journal ${file}:${records.length + 1}: batch index 99 is out of range: the plan has 2 batch(es)`,
    )
  })

  it('an invalid start record (positions not a list)', async () => {
    const { fx, file } = await interrupted()
    const lines = fs.readFileSync(file, 'utf8').split('\n')
    lines[0] = JSON.stringify({ ...JSON.parse(lines[0] as string), batches: { 0: [0, 1] } })
    fs.writeFileSync(file, lines.join('\n'))
    await expect(resumeFrom(fx, file)).rejects.toThrow(
      `[rolling] journal ${file}:1: invalid \`start\` record: \`batches\` is not a non-empty list: {"0":[0,1]}`,
    )
  })

  it('a symlinked journal is not followed', async () => {
    const { fx, file } = await interrupted()
    const real = `${file}.real`
    fs.renameSync(file, real)
    fs.symlinkSync(real, file)
    await expect(resumeFrom(fx, file)).rejects.toThrow(`[rolling] journal ${file}: cannot read: it is a symbolic link; refusing to follow it`)
    const journal = fileJournal(file)
    expect(() => journal.append({ type: 'verify' })).toThrow(`[rolling] journal ${file}: cannot open: it is a symbolic link; refusing to follow it`)
    expect(fs.readFileSync(real, 'utf8').endsWith('{"type":"verify"}\n')).toBe(false)
  })
})

const START = {
  type: 'start',
  runId: 'r-1',
  service: 'web',
  ref: 'latest',
  at: '2026-01-01T00:00:00.000Z',
  artifact: { service: 'web', version: 'v2', builtAt: '2026-01-01T00:00:00.000Z', sha256: 'ab'.repeat(32), size: 3 },
  targets: [
    { id: 'a', address: '127.0.0.2' },
    { id: 'b', address: '127.0.0.3' },
  ],
  batches: [[0], [1]],
}
const B0 = { type: 'batch', i: 0 }
const t = (i: number, s: string, o?: string) => (o === undefined ? { type: 't', i, s } : { type: 't', i, s, o })

// Each: records, and the message of line `records.length` (the last one is the bad one).
const bad: [string, unknown[], string][] = [
  ['no start first', [B0], 'the first record must be a start record, not batch'],
  ['not an object', [START, [1, 2]], 'invalid record: not a record: [1,2]'],
  ['an unknown type', [START, { type: 'hack' }], 'invalid `hack` record: unknown record type "hack"'],
  ['a second start', [START, B0, START], 'a second start record'],
  ['start without targets', [{ ...START, targets: [] }], 'invalid `start` record: `targets` is not a non-empty list: []'],
  ['start with a target id twice', [{ ...START, targets: [START.targets[0], START.targets[0]] }], 'invalid `start` record: `targets` lists a target id twice'],
  [
    'start with a position out of range',
    [{ ...START, batches: [[0], [5]] }],
    'invalid `start` record: `batches[1]` holds 5, not a position in `targets` (0 to 1)',
  ],
  ['start with a position twice', [{ ...START, batches: [[0], [0]] }], 'invalid `start` record: `batches` holds position 0 twice'],
  ['start leaving a target out', [{ ...START, batches: [[0]] }], 'invalid `start` record: `batches` leaves out 1 of the targets'],
  ['start without an artifact', [{ ...START, artifact: undefined }], 'invalid `start` record: `artifact` is not a build: missing'],
  ['start with a bad sha256', [{ ...START, artifact: { ...START.artifact, sha256: 5 } }], 'invalid `start` record: `sha256` is not a string: 5'],
  [
    'start with a target without an address',
    [{ ...START, targets: [{ id: 'a' }, START.targets[1]] }],
    'invalid `start` record: `address` is not a string: missing',
  ],
  [
    'start with a bad port',
    [{ ...START, targets: [{ id: 'a', address: 'x', port: 70000 }, START.targets[1]] }],
    'invalid `start` record: targets[0].port is not a port: 70000',
  ],
  ['batch index 99', [START, { type: 'batch', i: 99 }], 'batch index 99 is out of range: the plan has 2 batch(es)'],
  ['batch index -1', [START, { type: 'batch', i: -1 }], 'invalid `batch` record: `i` is not an index: -1'],
  ['a batch skipped', [START, { type: 'batch', i: 1 }], 'batch 1 starts after batch -1'],
  ['a target position out of range', [START, B0, t(7, 'detaching')], 'target position 7 is out of range: the plan has 2 target(s)'],
  ['an unknown state', [START, B0, t(0, 'teleported')], 'invalid `t` record: `s` is not one of'],
  ['a bad attach outcome', [START, B0, t(0, 'detaching'), t(0, 'attaching', 'great')], 'invalid `t` record: `o` is not one of'],
  ['a target of a batch not started', [START, B0, t(1, 'detaching')], 'b is in batch 1, which has not started (batch 0 is the last one started)'],
  ['done without detaching', [START, B0, t(0, 'done')], 'a cannot go from no state to done'],
  ['done from deploying', [START, B0, t(0, 'detaching'), t(0, 'detached'), t(0, 'deploying'), t(0, 'done')], 'a cannot go from deploying to done'],
  ['deploying before detached', [START, B0, t(0, 'deploying')], 'a cannot go from no state to deploying'],
  ['back from a final state', [START, B0, t(0, 'skipped'), t(0, 'detaching')], 'a cannot go from skipped to detaching (only to stopping)'],
  [
    'out of stopped',
    [START, B0, t(0, 'skipped'), { type: 'batch', i: 1 }, t(1, 'skipped'), { type: 'verify' }, t(0, 'stopping'), t(0, 'stopped'), t(0, 'stopping')],
    'a cannot go from stopped to stopping (it is final)',
  ],
  ['verify before the last batch', [START, B0, t(0, 'skipped'), { type: 'verify' }], 'verify starts with batch 1 of 2 last started'],
  [
    'a verify-found target before verify',
    [START, B0, { type: 'v', target: { id: 'c', address: 'x' }, s: 'stopping' }],
    'c is recorded as seen by verify before the verify phase',
  ],
  [
    'an end with an unknown status',
    [START, { type: 'end', status: 'great', at: 'x' }],
    'invalid `end` record: `status` is not one of succeeded, degraded, halted, failed, aborted: "great"',
  ],
  ['a record after the end', [START, { type: 'end', status: 'aborted', at: 'x' }, B0], "a batch record after the run's end record"],
]

describe('readJournal', () => {
  it.each(bad)('refuses %s', (_name, records, message) => {
    expect(() => readJournal(records, 'memory')).toThrow(
      expect.objectContaining({ code: 'JOURNAL', message: expect.stringContaining(`[rolling] journal memory:${records.length}: ${message}`) }),
    )
  })

  it('accepts every journal the engine writes: failures, rollbacks, holds, undrained, aborts, verify stops', async () => {
    const scenarios: [string, (fx: ReturnType<typeof setup>) => Partial<RolloutOptions>][] = [
      ['succeeded', () => ({ batch: 2 })],
      [
        'a broken deploy halts',
        (fx) => {
          fx.fleet.breakAfterDeploy('host-2')
          return { batch: 2 }
        },
      ],
      [
        'a broken deploy rolled back',
        (fx) => {
          fx.fleet.breakAfterDeploy('host-1')
          return { onFailure: 'rollback' }
        },
      ],
      [
        'unhealthy before',
        (fx) => {
          fx.fleet.unhealthyBefore('host-3')
          return { batch: 4 }
        },
      ],
      [
        'unhealthy before, no verify',
        (fx) => {
          fx.fleet.unhealthyBefore('host-3')
          return { verify: false }
        },
      ],
      [
        'dies in its hold',
        (fx) => {
          fx.fleet.dieAfterDeploy('host-1', 500)
          return { settle: { delay: 0, interval: 100, hold: 2000 } }
        },
      ],
      [
        'dies before the fleet check',
        (fx) => {
          fx.fleet.dieAfterDeploy('host-1', 20_000)
          return { batch: 1 }
        },
      ],
      [
        'hidden build, verify confirms',
        (fx) => {
          fx.fleet.hideBuild('host-2')
          return {}
        },
      ],
      [
        'a host ignoring the deploy is stopped by verify',
        (fx) => {
          fx.fleet.ignoreDeploy('host-2')
          return { settle: { requireBuild: false } }
        },
      ],
      ['a late host found by verify', (fx) => ({ hooks: { beforeVerify: () => void fx.fleet.addHost('v1') } })],
      ['aborted', () => ({ signal: AbortSignal.abort() })],
    ]
    const seen = new Set<string>()
    for (const [name, make] of scenarios) {
      const fx = setup({ size: 4 })
      const result = await fx.run(make(fx))
      const run = readJournal(fx.journal.records, 'memory')
      expect(run?.end?.status, name).toBe(result.status)
      for (const r of result.targets) seen.add(r.outcome)
      seen.add(result.status)
    }
    // The scenarios reach the outcomes whose transitions matter.
    expect([...seen].sort()).toEqual(expect.arrayContaining(['aborted', 'done', 'failed', 'halted', 'rolled-back', 'skipped', 'stopped', 'succeeded']))
    expect(readJournal(memoryJournal().records, 'memory')).toBeUndefined()
  })
})

describe('state files', () => {
  it('are 0600 in a 0700 folder whatever the umask (journal and lock)', async () => {
    const old = process.umask(0o000)
    try {
      const dir = path.join(freshDir(), 'nested', '.rolling')
      const journal = fileJournal(path.join(dir, 'web.journal.jsonl'))
      journal.append({ type: 'verify' })
      await journal.close()
      const lease = await fileLock({ dir }).acquire('web', {
        runId: 'r-1',
        pid: process.pid,
        host: os.hostname(),
        since: new Date().toISOString(),
        service: 'web',
      })
      const mode = (p: string) => fs.statSync(p).mode & 0o777
      expect(mode(path.join(dir, 'web.journal.jsonl'))).toBe(0o600)
      expect(mode(path.join(dir, 'web.lock'))).toBe(0o600)
      expect(mode(dir)).toBe(0o700)
      expect(mode(path.dirname(dir))).toBe(0o700)
      await lease.release()
    } finally {
      process.umask(old)
    }
  })

  it('a blank line in the middle is refused, so line numbers stay record numbers', async () => {
    const file = path.join(freshDir(), 'j.jsonl')
    fs.mkdirSync(path.dirname(file))
    fs.writeFileSync(file, '{"type":"a"}\n\n{"type":"b"}\n')
    await expect(fileJournal(file).read()).rejects.toThrow(`[rolling] journal ${file} is corrupt at line 2: an empty line`)
  })
})
