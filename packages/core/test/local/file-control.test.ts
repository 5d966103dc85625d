// fileControl: messages in the order sent, `after` skips those seen, a half-written or
// foreign file is not a message, and a folder that cannot be read is a clear error.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, chmodSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { fileControl, ValidationError, type ControlMessage } from '@org/rolling-core'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'rolling-control-'))
  dirs.push(d)
  return d
}
const msg = (id: string, kind: 'approve' | 'abort', at: number, runId = 'r-1'): ControlMessage => ({
  id,
  kind,
  runId,
  at: new Date(at).toISOString(),
  by: 'ops@host',
})

describe('fileControl', () => {
  it('returns messages in the order sent; `after` gives only later ones', async () => {
    const control = fileControl({ dir: tmp() })
    expect(await control.receive('checkout')).toEqual([])
    await control.send('checkout', msg('m-b', 'approve', 2000))
    await control.send('checkout', msg('m-a', 'abort', 3000))
    await control.send('other', msg('m-c', 'abort', 1000))
    expect((await control.receive('checkout')).map((m) => m.id)).toEqual(['m-b', 'm-a'])
    expect((await control.receive('checkout', { after: 'm-b' })).map((m) => m.id)).toEqual(['m-a'])
    expect(await control.receive('checkout', { after: 'm-a' })).toEqual([])
    expect((await control.receive('other')).map((m) => m.kind)).toEqual(['abort'])
  })

  it('ignores temporary and foreign files', async () => {
    const dir = tmp()
    const control = fileControl({ dir })
    mkdirSync(join(dir, 'checkout.control'))
    writeFileSync(join(dir, 'checkout.control', '.000000000001000-m-x.json.123.tmp'), '{"id":')
    writeFileSync(join(dir, 'checkout.control', '000000000001000-junk.json'), 'not json')
    writeFileSync(join(dir, 'checkout.control', '000000000001001-other.json'), '{"hello":1}')
    await control.send('checkout', msg('m-1', 'approve', 5000))
    expect((await control.receive('checkout')).map((m) => m.id)).toEqual(['m-1'])
  })

  it('refuses bad names, and says which folder it cannot write', async () => {
    expect(() => fileControl({ dir: '' })).toThrow(ValidationError)
    const control = fileControl({ dir: tmp() })
    await expect(control.send('../etc', msg('m-1', 'abort', 1))).rejects.toThrow(ValidationError)
    await expect(control.send('checkout', msg('m 1; rm', 'abort', 1))).rejects.toThrow(/message\.id/)
    if (process.getuid?.() !== 0) {
      const locked = tmp()
      chmodSync(locked, 0o500)
      await expect(fileControl({ dir: locked }).send('checkout', msg('m-1', 'abort', 1))).rejects.toThrow(
        /\[rolling:file-control\] could not write the abort message/,
      )
    }
  })
})
