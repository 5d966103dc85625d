// The shared state-store contracts on what core ships: the Lock on files (two Lock objects on
// one folder, as two processes would open it) and in memory, and the Journal on a file (read
// back through a second fileJournal on that file, as `rolling status` does) and in memory, and
// the ControlChannel as a folder (two channels on one folder, as two terminals).
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll } from 'vitest'
import { fileJournal, memoryJournal } from '../src/journal.js'
import { fileLock, memoryLock } from '../src/lock.js'
import { fileControl } from '../src/local/file-control.js'
import { testControl, testJournal, testLock } from '../src/testing/contracts/index.js'

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rolling-state-contract-'))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))
let n = 0

testLock({
  name: 'file',
  setup: async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'lock-'))
    return { lock: fileLock({ dir }), other: fileLock({ dir }) }
  },
})

testLock({ name: 'memory', setup: async () => ({ lock: memoryLock() }) })

testJournal({
  name: 'file',
  setup: async () => ({
    open: async () => {
      // A folder that does not exist yet, as on a first run.
      const file = path.join(tmp, `journal-${++n}`, 'app.journal.jsonl')
      return { journal: fileJournal(file), reader: () => fileJournal(file) }
    },
  }),
})

testJournal({ name: 'memory', setup: async () => ({ open: async () => ({ journal: memoryJournal() }) }) })

testControl({
  name: 'file',
  setup: async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'control-'))
    return { control: fileControl({ dir }), other: fileControl({ dir }) }
  },
})
