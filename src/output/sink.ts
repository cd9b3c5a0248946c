/**
 * Writes record output to stdout with backpressure, and notices when the reader went away
 * (`evt tail … | head`): then `closed` is set and `onClosed` is called, instead of an EPIPE crash.
 */
export class StdoutSink {
  closed = false
  private readonly stream: NodeJS.WriteStream

  constructor(onClosed: () => void, stream: NodeJS.WriteStream = process.stdout) {
    this.stream = stream
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') {
        this.closed = true
        onClosed()
      } else throw err
    })
  }

  /** Writes the pieces as one chunk; resolves when the stream can take more. */
  async write(pieces: Array<string | Buffer>): Promise<void> {
    if (this.closed || pieces.length === 0) return
    const chunk = pieces.every((p) => typeof p === 'string') ? (pieces as string[]).join('') : Buffer.concat(pieces.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)))
    if (!this.stream.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.stream.off('drain', done)
          this.stream.off('close', done)
          resolve()
        }
        this.stream.on('drain', done)
        this.stream.on('close', done)
      })
    }
  }
}
