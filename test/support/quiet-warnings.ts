/** vitest setup file: drops kafkajs's TimeoutNegativeWarning in the test processes, as bin/run.js does. */
// @ts-expect-error plain ESM script without type declarations
import { dropTimeoutNegativeWarning } from '../../bin/quiet-warnings.js'

dropTimeoutNegativeWarning()
