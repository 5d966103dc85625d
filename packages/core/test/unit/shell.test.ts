// shellQuote / sh: every value that enters a command line must reach the program
// as the very same bytes, whatever it holds, and never run anything.
import { execFileSync } from 'node:child_process'
import { existsSync, rmSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { sh, shellQuote } from '@org/rolling-core'
import { maskSecrets } from '@org/rolling-core/adapter'

const marker = join(tmpdir(), `pwned-${process.pid}-${randomBytes(4).toString('hex')}`)

/** Runs a command line through a real POSIX shell and returns its stdout. */
function shell(command: string): string {
  return execFileSync('/bin/sh', ['-c', command], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } })
}

const hostile: readonly string[] = [
  `1.0; touch ${marker}`,
  `$(touch ${marker})`,
  '$(id)',
  `\`touch ${marker}\``,
  '`id`',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal `${HOME}` is the point
  '${HOME}',
  '$HOME',
  "it's",
  "'",
  "''",
  '"double" quotes',
  `"; touch ${marker}; echo "`,
  `'; touch ${marker}; echo '`,
  `'\\''`,
  'a\\b\\\\c\\',
  'line one\nline two\n',
  '\n',
  'tab\there',
  'ünïcødé ✓ 日本語 🚀',
  '',
  ' ',
  '  leading and trailing  ',
  '-n',
  '--help',
  '-e \\x41',
  '*',
  '/*',
  '~',
  '~root',
  '!!',
  '#comment',
  'a | touch x',
  `a && touch ${marker}`,
  `a > ${marker}`,
  `< /etc/passwd`,
  '{a,b}',
  '[abc]',
  '%s%s%d',
  'x=1',
  'FOO=bar',
  '\u00a0non-breaking',
  '\r\n',
]

afterAll(() => {
  rmSync(marker, { force: true })
})

describe('shellQuote', () => {
  it.each(hostile.map((v) => [JSON.stringify(v), v] as const))('round-trips %s through /bin/sh as one argument', (_label, value) => {
    expect(shell(`printf %s ${shellQuote(value)}`)).toBe(value)
    // Exactly one word: a second %s-terminated argument would show a second `|`.
    expect(shell(`printf '%s|' ${shellQuote(value)}`)).toBe(`${value}|`)
    expect(existsSync(marker)).toBe(false)
  })

  it('round-trips every printable ASCII character, and all of them at once', () => {
    const all = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('')
    expect(shell(`printf %s ${shellQuote(all)}`)).toBe(all)
    for (const c of all) expect(shell(`printf %s ${shellQuote(`a${c}b`)}`)).toBe(`a${c}b`)
    expect(existsSync(marker)).toBe(false)
  })

  it('leaves plain words bare and quotes the rest', () => {
    expect(shellQuote('/srv/app/releases/v1.2.3')).toBe('/srv/app/releases/v1.2.3')
    expect(shellQuote('checkout')).toBe('checkout')
    expect(shellQuote(42)).toBe('42')
    expect(shellQuote(1.5)).toBe('1.5')
    expect(shellQuote('')).toBe("''")
    expect(shellQuote('a b')).toBe("'a b'")
    expect(shellQuote("it's")).toBe(`'it'\\''s'`)
    expect(shellQuote('$(id)')).toBe("'$(id)'")
  })

  it('rejects a NUL byte, which no shell argument can hold', () => {
    expect(() => shellQuote('a\0b')).toThrow(TypeError)
    expect(() => shellQuote('\0')).toThrow(/NUL/)
    expect(() => sh`echo ${'x\0y'}`).toThrow(TypeError)
    expect(() => sh`echo ${['ok', 'x\0y']}`).toThrow(TypeError)
  })
})

describe('sh', () => {
  it('quotes every interpolated value and keeps the literal parts', () => {
    expect(sh`tar -xzf ${'/tmp/my file.tgz'} -C ${'/srv/app'}`).toBe(`tar -xzf '/tmp/my file.tgz' -C /srv/app`)
    expect(sh`echo`).toBe('echo')
    expect(sh`${'a b'}`).toBe("'a b'")
    expect(sh`x ${3} y`).toBe('x 3 y')
  })

  it('expands an array to several quoted words', () => {
    expect(sh`rm -f ${['a b', 'c', "d'e"]}`).toBe(`rm -f 'a b' c 'd'\\''e'`)
    expect(sh`echo ${[]}x`).toBe('echo x')
  })

  it('round-trips hostile values through /bin/sh, with no side effect', () => {
    const values = hostile.filter((v) => v !== '')
    const out = shell(sh`printf '%s\\0' ${values}`)
    expect(out.split('\0').slice(0, -1)).toEqual(values)
    for (const value of hostile) {
      expect(shell(sh`printf '[%s]' ${value} ${'second'}`)).toBe(`[${value}][second]`)
    }
    expect(existsSync(marker)).toBe(false)
  })

  it('a release command built with sh runs the intended program only', () => {
    const version = `1.0; touch ${marker}`
    const dir = `/tmp/rel $(touch ${marker})`
    expect(shell(sh`printf '%s\\n' install ${version} ${dir}`)).toBe(`install\n${version}\n${dir}\n`)
    expect(existsSync(marker)).toBe(false)
  })
})

describe('maskSecrets', () => {
  it('replaces every occurrence of every secret by ***', () => {
    expect(maskSecrets('token=abc123 again abc123', ['abc123'])).toBe('token=*** again ***')
    expect(maskSecrets('user:hunter2 key:s3cr3t', ['hunter2', 's3cr3t'])).toBe('user:*** key:***')
  })

  it('treats secrets as text, not patterns', () => {
    expect(maskSecrets('a.b a+b (x)', ['a.b', '(x)'])).toBe('*** a+b ***')
    expect(maskSecrets('price $1.00', ['$1.00'])).toBe('price ***')
  })

  it('leaves the text alone without secrets, and ignores an empty secret', () => {
    expect(maskSecrets('nothing to hide', undefined)).toBe('nothing to hide')
    expect(maskSecrets('nothing to hide', [])).toBe('nothing to hide')
    expect(maskSecrets('abc', [''])).toBe('abc')
    expect(maskSecrets('', ['x'])).toBe('')
  })

  it('masks multi-line and unicode secrets', () => {
    expect(maskSecrets('-----BEGIN\nkey\n-----END', ['BEGIN\nkey\n'])).toBe('-----***-----END')
    expect(maskSecrets('pass: пароль✓', ['пароль✓'])).toBe('pass: ***')
  })

  it('masks a secret that contains another, whatever their order', () => {
    const out = maskSecrets('token abcdef', ['abc', 'abcdef'])
    expect(out).not.toContain('abc')
    expect(out).not.toContain('def')
  })

  it('masks a secret that contains another when the longer one comes first', () => {
    expect(maskSecrets('token abcdef and abc', ['abcdef', 'abc'])).toBe('token *** and ***')
  })

  // Regression test, fixed (packages/core/src/shell.ts, maskSecrets): secrets are masked one after the other, so
  // when two occurrences overlap without one containing the other, masking the first destroys
  // the second and its tail leaks: maskSecrets('abcdef', ['abcd', 'cdef']) === '***ef'.
  // Fix: find every occurrence of every secret in the original text, merge the overlapping
  // [start, end) ranges, and replace each merged range by `***` in one pass.
  it('masks secrets whose occurrences overlap', () => {
    const out = maskSecrets('key=abcdef;', ['abcd', 'cdef'])
    expect(out).toBe('key=***;')
  })
})
