// Pure pieces, no HAProxy needed: the config startHaproxy writes, and the parsers of the
// runtime API answers (including a quoted CSV field).
import { describe, expect, it } from 'vitest'
import { parseServersState, parseStat } from '../src/parse.js'
import { renderHaproxyConfig } from '../src/process.js'

const base = {
  dir: '/tmp/x',
  frontend: { address: '127.0.0.1', port: 8080 },
  backends: [{ name: 'web', servers: [{ name: 's1', address: '127.0.0.2', port: 3000 }] }],
}

describe('renderHaproxyConfig', () => {
  it('declares an admin socket, HTTP health checks and retries 0 by default', () => {
    const cfg = renderHaproxyConfig(base, '/tmp/x/admin.sock')
    expect(cfg).toContain('stats socket /tmp/x/admin.sock mode 600 level admin')
    expect(cfg).toContain('option httpchk GET /_status')
    expect(cfg).toContain('http-check expect status 200')
    expect(cfg).toContain('default-server check inter 500ms rise 2 fall 2')
    expect(cfg).toContain('retries 0')
    expect(cfg).not.toContain('option redispatch')
    expect(cfg).toContain('default_backend web')
    expect(cfg).toContain('server s1 127.0.0.2:3000')
  })

  it('adds redispatch only with retries, and takes the check settings', () => {
    const cfg = renderHaproxyConfig({ ...base, retries: 2, check: { path: '/health', interMs: 100, rise: 3 } }, '/s')
    expect(cfg).toContain('option redispatch')
    expect(cfg).toContain('option httpchk GET /health')
    expect(cfg).toContain('default-server check inter 100ms rise 3 fall 2')
  })

  it('refuses names HAProxy would not accept', () => {
    expect(() => renderHaproxyConfig({ ...base, backends: [{ name: 'web; x', servers: [] }] }, '/s')).toThrow(/invalid HAProxy name/)
  })
})

describe('runtime API answers', () => {
  it('parses show servers state', () => {
    const answer =
      '1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord\n' +
      '3 web 1 s1 127.0.0.2 2 0 1 1 3 15 3 3 6 0 0 0 - 18081 -\n3 web 2 s2 127.0.0.3 0 1 1 1 3 15 3 3 14 0 0 0 - 0 -\n\n'
    expect(parseServersState('web', answer)).toEqual([
      { backend: 'web', server: 's1', address: '127.0.0.2', port: 18081, opState: 2, adminState: 0, checkState: 6 },
      { backend: 'web', server: 's2', address: '127.0.0.3', port: undefined, opState: 0, adminState: 1, checkState: 14 },
    ])
    expect(() => parseServersState('nope', "Can't find backend.\n\n")).toThrow(/no backend named "nope"/)
  })

  it('parses show stat, quoted fields included', () => {
    const answer =
      '# pxname,svname,qcur,scur,status,last_chk,check_status,check_code,check_desc,check_health,\nweb,s1,2,5,UP 1/2,"a, b",L7STS,500,Layer7 wrong status,1,\n'
    expect(parseStat('web', answer)).toEqual([
      {
        backend: 'web',
        server: 's1',
        status: 'UP 1/2',
        scur: 5,
        qcur: 2,
        checkStatus: 'L7STS',
        checkCode: '500',
        checkDesc: 'Layer7 wrong status',
        checkHealth: 1,
      },
    ])
  })
})
