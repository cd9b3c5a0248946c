// kafkajs 2.2.4 schedules its request-queue check with a negative delay when it is not
// throttled; Node >= 23 warns about that on every connection ("TimeoutNegativeWarning"). The delay
// is clamped to 1 ms either way, so the warning carries nothing for users: this drops that one
// warning only. Used by bin/run.js, bin/dev.js and the test processes.
export function dropTimeoutNegativeWarning() {
  const emitWarning = process.emitWarning.bind(process)
  process.emitWarning = (warning, ...rest) => {
    const type = typeof rest[0] === 'string' ? rest[0] : rest[0]?.type
    if (type === 'TimeoutNegativeWarning' || warning?.name === 'TimeoutNegativeWarning') return
    emitWarning(warning, ...rest)
  }
}
