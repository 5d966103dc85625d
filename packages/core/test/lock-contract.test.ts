// The shared Lock contract on the two locks core ships: files (two Lock objects on one folder,
// as two processes would open it) and memory.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileLock, memoryLock } from '../src/lock.js'
import { testLock } from '../src/testing/contracts/index.js'

testLock({
  name: 'file',
  setup: async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rolling-lock-contract-'))
    return { lock: fileLock({ dir }), other: fileLock({ dir }), teardown: async () => fs.rmSync(dir, { recursive: true, force: true }) }
  },
})

testLock({ name: 'memory', setup: async () => ({ lock: memoryLock() }) })
