// POSIX shell quoting. Every value that enters a command line goes through here.

/**
 * Quotes a value for a POSIX shell: single quotes around it, each `'` written as `'\''`.
 * Nothing inside single quotes is expanded, so `$(id)`, backticks, `;` and newlines stay text.
 * Rejects NUL, which no shell argument can hold.
 */
export function shellQuote(value: string | number): string {
  const text = String(value)
  if (text.includes('\0')) throw new TypeError('[rolling] cannot shell-quote a value containing a NUL byte')
  if (text !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(text)) return text
  return `'${text.replaceAll("'", `'\\''`)}'`
}

/**
 * Template tag that quotes every interpolated value:
 * sh`tar -xzf ${file} -C ${dir}` → `tar -xzf '/tmp/my file.tgz' -C /srv/app`.
 * Arrays expand to several quoted words.
 */
export function sh(strings: TemplateStringsArray, ...values: readonly (string | number | readonly (string | number)[])[]): string {
  let out = strings[0] ?? ''
  values.forEach((value, i) => {
    out += Array.isArray(value) ? value.map(shellQuote).join(' ') : shellQuote(value as string | number)
    out += strings[i + 1] ?? ''
  })
  return out
}

/** Replaces each secret in `text` by `***`, overlapping occurrences merged into one mask. */
export function maskSecrets(text: string, secrets: readonly string[] | undefined): string {
  if (!secrets?.length) return text
  // Ranges found in the original text, so masking one secret cannot hide another's tail.
  const ranges: [number, number][] = []
  for (const secret of secrets) {
    if (!secret) continue
    for (let at = text.indexOf(secret); at !== -1; at = text.indexOf(secret, at + 1)) ranges.push([at, at + secret.length])
  }
  if (ranges.length === 0) return text
  ranges.sort((a, b) => a[0] - b[0])
  let out = ''
  let pos = 0
  let [start, end] = ranges[0] as [number, number]
  for (const [s, e] of ranges.slice(1)) {
    if (s <= end) end = Math.max(end, e)
    else {
      out += `${text.slice(pos, start)}***`
      pos = end
      ;[start, end] = [s, e]
    }
  }
  return `${out}${text.slice(pos, start)}***${text.slice(end)}`
}

/**
 * `printf '%s\n' <text> | `: feeds `text` to the next command's stdin instead of its argv,
 * where `ps` would show it. printf is a shell builtin (dash, bash, busybox), so no process
 * carries the text as an argument either: `${pipeText(curlConfig(url))}curl -K -`.
 */
export function pipeText(text: string): string {
  return `printf '%s\\n' ${shellQuote(text)} | `
}

/** A curl config (`curl -K -`) naming `url`, so the URL (a presigned signature) stays out of argv. */
export function curlConfig(url: string): string {
  if (/[\r\n\0]/.test(url)) throw new TypeError('[rolling] a URL cannot contain a line break or NUL')
  return `url = "${url.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`
}

/**
 * `sh -s` runs what it reads from stdin. One `{ }` block is parsed whole before it runs, and
 * its stdin is /dev/null, so a command that reads stdin can neither eat the rest of the
 * script nor wait for input that never comes.
 */
export function stdinScript(script: string): string {
  return `{\n${script}\n} </dev/null\n`
}
