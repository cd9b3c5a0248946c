/**
 * Text from records (values, keys, header names and values, dead-letter error messages and stack
 * traces) made safe for a terminal: every human-readable output — the plain renderers in
 * src/output/ and the Ink views' text in src/ui/ — passes record-borne text through
 * {@link escapeControl} before colouring it. A dead-letter header holding `ESC [2J` (clear screen)
 * or `ESC ] 52 ; c ; … BEL` (a clipboard write) is then shown as `\x1b[2J` instead of being obeyed.
 * JSON output is not touched: JSON escapes control characters itself.
 */

/**
 * Characters a terminal acts on: C0 controls but tab and line feed, DEL, C1 controls (U+0080–U+009F,
 * U+009B is a one-byte CSI) and the bidirectional overrides and isolates that reorder what is shown.
 */
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g

/**
 * `text` with every control character a terminal would act on written as a visible escape:
 * `\x1b`, `\x07`, `\x0d`, `\u202e`. Tabs and line feeds stay (renderers lay out lines themselves).
 */
export function escapeControl(text: string): string {
  UNSAFE.lastIndex = 0
  if (!UNSAFE.test(text)) return text
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0)
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
  })
}

/**
 * `text` on one line for a terminal: line breaks, tabs and U+2028/U+2029 (runs of them) become one
 * space, and every other control character is escaped by {@link escapeControl}.
 */
export function singleLine(text: string): string {
  return escapeControl(text.replace(/[\r\n\t\u2028\u2029]+/g, ' '))
}
