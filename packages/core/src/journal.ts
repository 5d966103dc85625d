// The rollout journal: the engine appends each transition before it happens, so a
// crashed (even SIGKILLed) rollout can be resumed from what was written. JSON lines on
// disk, one synchronous write per record; an in-memory twin for tests and benchmarks.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { RollingError, errorMessage } from './errors.js'
import { NO_FOLLOW, STATE_FILE_MODE, makeStateDir, openProblem } from './state-files.js'

import type { StoredRecord } from './journal-records.js'

// What a journal stores is any JSON object with a `type`; the rollout's own records are the
// typed `JournalRecord` union, checked on read by journal-reader.ts.
export type { JournalRecord, StoredRecord } from './journal-records.js'

export interface Journal {
  /** Where it lives, for messages (a path, or 'memory'). */
  readonly location: string
  /** Records of the last run, in order ([] when none). A torn last line (crash mid-write) is ignored. */
  read(): Promise<StoredRecord[]>
  /** Empties the journal to start a new run. */
  reset(): Promise<void>
  /**
   * Appends records (one write for all of them); when it returns, they survive a crash of
   * this process. Synchronous on purpose: the engine calls it per transition and it must be cheap.
   */
  append(...records: StoredRecord[]): void
  /**
   * For a journal that writes behind (S3): resolves once every record appended so far is
   * durable, rejects with the write's error. The engine awaits it before it takes a target out
   * of service and before it reports the end. Omitted when `append` is durable on return.
   */
  flush?(): Promise<void>
  close(): Promise<void>
}

export interface FileJournalOptions {
  /**
   * Also `fsync` after every append. `writeSync` alone puts the record in the kernel,
   * which survives a crash of this process; fsync also survives a machine crash, at a cost.
   * @default false
   */
  fsync?: boolean
}

const NEWLINE = 0x0a

/** A JSON-lines journal at `file`, opened once in append mode on first use. */
export function fileJournal(file: string, options: FileJournalOptions = {}): Journal & { readonly bytes: number } {
  const sync = options.fsync ?? false
  let fd: number | undefined
  let end = 0 // file size after our last complete write, to cut off a failed partial write
  let bytes = 0
  let closed = false

  const fail = (message: string, cause?: unknown) =>
    new RollingError('JOURNAL', `[rolling] journal ${file}: ${message}`, cause === undefined ? undefined : { cause })

  const open = (): number => {
    if (closed) throw fail('append after close')
    if (fd !== undefined) return fd
    try {
      makeStateDir(path.dirname(file))
      const created = !exists(file)
      const handle = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | NO_FOLLOW, STATE_FILE_MODE)
      try {
        fs.fchmodSync(handle, STATE_FILE_MODE) // the umask may have masked bits off, or the file predates us
        // A torn last line from a crashed run would otherwise glue itself to our first
        // record and turn into a corrupt middle line; cut the file back to its last '\n'.
        end = cutTornTail(file, handle)
        // With fsync the file's directory entry must be durable too, or the file itself may vanish.
        if (sync && created) fsyncDir(path.dirname(file))
      } catch (error) {
        fs.closeSync(handle)
        throw error
      }
      fd = handle
      return handle
    } catch (error) {
      throw fail(`cannot open: ${openProblem(error) ?? errorMessage(error)}`, error)
    }
  }

  return {
    location: file,
    get bytes() {
      return bytes
    },
    append(...records) {
      if (records.length === 0) return
      const line = records.length === 1 ? serialize(records[0] as StoredRecord, fail) : records.map((r) => serialize(r, fail)).join('')
      const handle = open()
      try {
        let written = fs.writeSync(handle, line)
        const size = Buffer.byteLength(line)
        // Regular files rarely write short, but a short write (disk nearly full) must not leave half a line.
        if (written < size) {
          const buffer = Buffer.from(line)
          while (written < size) written += fs.writeSync(handle, buffer, written, size - written)
        }
        if (sync) fs.fsyncSync(handle)
        end += size
        bytes += size
      } catch (error) {
        // Cut off whatever part of the line made it, so the journal stays readable.
        try {
          fs.ftruncateSync(handle, end)
        } catch {
          // The write already failed; its error is the one worth reporting.
        }
        throw fail(`cannot append a ${records[0]?.type} record: ${errorMessage(error)}`, error)
      }
    },
    async read() {
      let text: string
      try {
        const handle = await fs.promises.open(file, fs.constants.O_RDONLY | NO_FOLLOW)
        try {
          text = await handle.readFile('utf8')
        } finally {
          await handle.close()
        }
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
        throw fail(`cannot read: ${openProblem(error) ?? errorMessage(error)}`, error)
      }
      return parseLines(text, file)
    },
    async reset() {
      const handle = open()
      try {
        fs.ftruncateSync(handle, 0) // the fd is O_APPEND, so later writes start at 0 again
        if (sync) fs.fsyncSync(handle)
      } catch (error) {
        throw fail(`cannot reset: ${errorMessage(error)}`, error)
      }
      end = 0
      bytes = 0
    },
    async close() {
      closed = true
      if (fd === undefined) return
      const handle = fd
      fd = undefined
      fs.closeSync(handle)
    },
  }
}

/** A journal in memory; records go through JSON like the file's, so both behave alike. */
export function memoryJournal(): Journal & { readonly records: StoredRecord[]; readonly bytes: number } {
  const records: StoredRecord[] = []
  let bytes = 0
  let closed = false
  const fail = (message: string, cause?: unknown) =>
    new RollingError('JOURNAL', `[rolling] journal memory: ${message}`, cause === undefined ? undefined : { cause })
  return {
    location: 'memory',
    records,
    get bytes() {
      return bytes
    },
    append(...added) {
      if (closed) throw fail('append after close')
      const lines = added.map((record) => serialize(record, fail))
      for (const line of lines) {
        records.push(JSON.parse(line) as StoredRecord)
        bytes += Buffer.byteLength(line)
      }
    },
    async read() {
      return records.map((r) => structuredClone(r))
    },
    async reset() {
      records.length = 0
      bytes = 0
    },
    async close() {
      closed = true
    },
  }
}

function serialize(record: StoredRecord, fail: (message: string, cause?: unknown) => RollingError): string {
  if (typeof record?.type !== 'string') throw fail(`a record needs a string \`type\`, got ${JSON.stringify(record)}`)
  try {
    return `${JSON.stringify(record)}\n`
  } catch (error) {
    // Better to refuse the transition now than to find an unreadable journal at resume.
    throw fail(`cannot serialize a ${record.type} record: ${errorMessage(error)}`, error)
  }
}

/** Parses JSON lines; an unterminated last line is a torn write and is dropped. */
function parseLines(text: string, file: string): StoredRecord[] {
  const records: StoredRecord[] = []
  const lines = text.split('\n')
  // The piece after the last '\n' is '' for a clean file, or the torn write of a crash.
  lines.pop()
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string
    // The engine writes no blank line; refusing one keeps line numbers and record numbers equal.
    if (line.trim() === '') throw new RollingError('JOURNAL', `[rolling] journal ${file} is corrupt at line ${i + 1}: an empty line`)
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch (error) {
      throw new RollingError('JOURNAL', `[rolling] journal ${file} is corrupt at line ${i + 1}`, { cause: error })
    }
    if (typeof value !== 'object' || value === null || typeof (value as { type?: unknown }).type !== 'string') {
      throw new RollingError('JOURNAL', `[rolling] journal ${file} is corrupt at line ${i + 1}: not a record with a type`)
    }
    records.push(value as StoredRecord)
  }
  return records
}

/**
 * Truncates the file after its last '\n' (when its tail is torn) and returns the resulting
 * size. `fd` is the append-only descriptor; the tail is read through a second, read-only one.
 */
function cutTornTail(file: string, fd: number): number {
  const size = fs.fstatSync(fd).size
  if (size === 0) return 0
  const reader = fs.openSync(file, fs.constants.O_RDONLY | NO_FOLLOW)
  try {
    const chunk = Buffer.alloc(Math.min(size, 64 * 1024))
    let pos = size
    while (pos > 0) {
      const length = Math.min(chunk.length, pos)
      pos -= length
      fs.readSync(reader, chunk, 0, length, pos)
      const at = chunk.lastIndexOf(NEWLINE, length - 1)
      if (at !== -1) {
        const keep = pos + at + 1
        if (keep !== size) fs.ftruncateSync(fd, keep)
        return keep
      }
    }
  } finally {
    fs.closeSync(reader)
  }
  fs.ftruncateSync(fd, 0) // one torn line and nothing else
  return 0
}

function exists(file: string): boolean {
  try {
    fs.lstatSync(file)
    return true
  } catch {
    return false
  }
}

function fsyncDir(dir: string): void {
  let fd: number | undefined
  try {
    fd = fs.openSync(dir, 'r')
    fs.fsyncSync(fd)
  } catch {
    // Some platforms cannot fsync a directory; the file's own fsyncs still apply.
  } finally {
    if (fd !== undefined) fs.closeSync(fd)
  }
}
