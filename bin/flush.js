// Waiting for stdout and stderr to be written out before evt exits.
//
// A pipe whose reader is slow holds output in the stream's buffer. Its 'drain' event only fires
// when a write had returned false (the buffer had gone over its high-water mark), so a last write
// that stayed under the mark, while the pipe was full, never gets one: a wait on 'drain' then never
// settles, the event loop empties once the bytes are out, and Node ends with exit code 13
// ("unsettled top-level await"). An empty write's callback runs after every write before it,
// whichever way the buffer filled.

/**
 * Resolves once everything written to the stream so far has been handed to the OS, at once when
 * nothing is pending, or when the stream closes or fails (a reader that went away).
 * @param {NodeJS.WritableStream & { writableLength: number, destroyed: boolean }} stream process.stdout or process.stderr
 * @returns {Promise<void>}
 */
export function flushed(stream) {
  return new Promise((resolve) => {
    if (stream.destroyed || stream.writableLength === 0) return resolve()
    stream.once('close', () => resolve())
    stream.once('error', () => resolve())
    stream.write('', () => resolve())
  })
}
