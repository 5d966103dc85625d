// Parsers for the two runtime API answers the adapter reads: `show servers state <be>`
// (numeric states, address and port as HAProxy resolved them) and `show stat <be> 4 -1`
// (the CSV with live connection counts and the last health check's outcome).
import { HaproxyError } from './errors.js'

/** `srv_op_state` (enum srv_state in HAProxy's server-t.h). */
export const OpState = { stopped: 0, starting: 1, running: 2, stopping: 3 } as const

/** `srv_admin_state` bits (SRV_ADMF_* in server-t.h). */
export const AdminFlag = {
  /** Forced, inherited, configured (`disabled`), resolver and hostname maintenance. */
  maint: 0x01 | 0x02 | 0x04 | 0x20 | 0x40,
  /** Forced or inherited drain. */
  drain: 0x08 | 0x10,
} as const

/** `srv_check_state` bit: health checks are configured and administratively enabled (CHK_ST_ENABLED). */
export const CHECK_ENABLED = 0x04

export interface ServerState {
  backend: string
  server: string
  address: string
  /** Undefined when HAProxy has none (port 0: the client's destination port is used). */
  port: number | undefined
  opState: number
  adminState: number
  checkState: number
}

export interface ServerStat {
  backend: string
  server: string
  /** As HAProxy prints it: `UP`, `UP 1/2`, `DOWN`, `DRAIN`, `MAINT`, `no check`, ... */
  status: string
  /** Current sessions. */
  scur: number
  /** Requests waiting in this server's queue. */
  qcur: number
  /** Last check's status (`L7OK`, `L7STS`, `L4CON`, ...); HAProxy prefixes `* ` while a check runs. */
  checkStatus: string
  checkCode: string
  checkDesc: string
  /** HAProxy's check health counter: 0 after `health down`, +1 per passing check, UP at `rise`. */
  checkHealth: number
}

/** True when the server is up as far as health checks go (slow-start counts as up). */
export const isUp = (s: ServerState): boolean => s.opState === OpState.running || s.opState === OpState.starting
export const inMaint = (s: ServerState): boolean => (s.adminState & AdminFlag.maint) !== 0
export const inDrain = (s: ServerState): boolean => (s.adminState & AdminFlag.drain) !== 0
/** In service: up and neither drained nor in maintenance. */
export const isReady = (s: ServerState): boolean => s.adminState === 0 && isUp(s)

export function parseServersState(backend: string, answer: string): ServerState[] {
  if (/^(Can't find backend|No such backend)/m.test(answer)) {
    throw new HaproxyError('unknown-backend', `HAProxy has no backend named ${JSON.stringify(backend)} (it answered: ${answer.trim()})`)
  }
  const lines = answer.split('\n').filter((line) => line.trim() !== '')
  const header = lines.find((line) => line.startsWith('# '))
  if (!header) throw unexpected(`show servers state ${backend}`, answer)
  const names = header.slice(2).trim().split(/\s+/)
  const col = (fields: string[], name: string): string => fields[names.indexOf(name)] ?? ''
  return lines
    .filter((line) => !line.startsWith('#') && line.includes(' '))
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => col(fields, 'be_name') === backend)
    .map((fields) => {
      const port = Number(col(fields, 'srv_port'))
      return {
        backend,
        server: col(fields, 'srv_name'),
        address: col(fields, 'srv_addr'),
        port: Number.isInteger(port) && port > 0 ? port : undefined,
        opState: Number(col(fields, 'srv_op_state')),
        adminState: Number(col(fields, 'srv_admin_state')),
        checkState: Number(col(fields, 'srv_check_state')),
      }
    })
}

export function parseStat(backend: string, answer: string): ServerStat[] {
  if (/^No such proxy/m.test(answer)) {
    throw new HaproxyError('unknown-backend', `HAProxy has no backend named ${JSON.stringify(backend)} (it answered: ${answer.trim()})`)
  }
  const lines = answer.split('\n').filter((line) => line.trim() !== '')
  const header = lines[0]
  if (!header?.startsWith('# ')) throw unexpected(`show stat ${backend} 4 -1`, answer)
  const names = header.slice(2).split(',')
  const rows = lines.slice(1).map(splitCsv)
  const col = (fields: string[], name: string): string => fields[names.indexOf(name)] ?? ''
  return rows
    .filter((fields) => col(fields, 'pxname') === backend && !['FRONTEND', 'BACKEND'].includes(col(fields, 'svname')))
    .map((fields) => ({
      backend,
      server: col(fields, 'svname'),
      status: col(fields, 'status'),
      scur: Number(col(fields, 'scur')) || 0,
      qcur: Number(col(fields, 'qcur')) || 0,
      checkStatus: col(fields, 'check_status'),
      checkCode: col(fields, 'check_code'),
      checkDesc: col(fields, 'check_desc'),
      checkHealth: Number(col(fields, 'check_health')) || 0,
    }))
}

/** Splits one CSV line; HAProxy quotes a field (`"..."`, `""` for a quote) when it holds a comma, e.g. `last_chk`. */
function splitCsv(line: string): string[] {
  const fields: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const char = line[i]
    if (quoted) {
      if (char === '"' && line[i + 1] === '"') {
        field += '"'
        i++
      } else if (char === '"') quoted = false
      else field += char
    } else if (char === '"') quoted = true
    else if (char === ',') {
      fields.push(field)
      field = ''
    } else field += char
  }
  fields.push(field)
  return fields
}

function unexpected(command: string, answer: string): HaproxyError {
  const first = answer.trim().split('\n')[0] ?? ''
  return new HaproxyError('command', `unexpected answer to \`${command}\`: ${JSON.stringify(first.slice(0, 200))}`)
}
