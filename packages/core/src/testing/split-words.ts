// How the in-memory hosts read a command line: the words a POSIX shell would see.
/**
 * Splits a command line into words the way a POSIX shell would for the simple
 * commands the recipe emits: blanks separate words, single quotes (as `shellQuote`
 * writes them, `'\''` included) and double quotes group, backslash escapes.
 */
export function splitWords(command: string): string[] {
  const words: string[] = []
  let word = ''
  let inWord = false
  let quote: "'" | '"' | undefined
  // Copies runs of plain characters with one slice each: char-by-char concatenation made this
  // a large share of the 100k-host benchmark's garbage.
  let from = 0
  const flush = (to: number) => {
    if (to > from) word += command.slice(from, to)
  }
  for (let i = 0; i < command.length; i++) {
    const c = command[i] as string
    if (quote) {
      if (c === quote) {
        flush(i)
        quote = undefined
        from = i + 1
      } else if (quote === '"' && c === '\\' && i + 1 < command.length) {
        flush(i)
        from = ++i
      }
    } else if (c === "'" || c === '"') {
      flush(i)
      quote = c
      inWord = true
      from = i + 1
    } else if (c === '\\' && i + 1 < command.length) {
      flush(i)
      inWord = true
      from = ++i
    } else if (c === ' ' || c === '\t' || c === '\n') {
      flush(i)
      if (inWord) words.push(word)
      word = ''
      inWord = false
      from = i + 1
    } else inWord = true
  }
  flush(command.length)
  if (inWord) words.push(word)
  return words
}
