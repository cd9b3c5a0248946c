import { Flags } from '@oclif/core'
import { EvtCommand } from '../../base-command.ts'
import { EvtError } from '../../errors.ts'
import { connectionFlags, withEnv, writeFlags } from '../../flags.ts'
import { indexStoreFlags } from '../../index-flags.ts'
import { checkIndexName, openIndexStore, parseStoreSpec } from '../../index-store/open.ts'
import { plural } from '../../output/plural.ts'
import { dropIndex, planIndexDrop } from '../../services/index-status.ts'
import { confirmWrite } from '../../ui/confirm.ts'

export default class IndexDrop extends EvtCommand {
  static override summary = 'Remove a trace index: its pointer rows and its workers\' consumer group.'
  static override description = `Deletes the consumer group _evt-index-<name> (so the next worker indexes from the start again) and every pointer row of the store. Refused (exit 6) while workers are in the group: stop them first. Records in Kafka are not touched.

The plan is printed first; --dry-run stops there. Removing asks on a terminal; without one it needs --yes. Running it again removes nothing more and exits 0.`
  static override examples = [
    { description: 'What would be removed', command: '<%= config.bin %> <%= command.id %> --dry-run' },
    { description: 'Remove the local index', command: '<%= config.bin %> <%= command.id %> --yes' },
  ]
  static override flags = withEnv({
    ...connectionFlags,
    ...indexStoreFlags,
    ...writeFlags({ nothing: 'removed' }),
  })

  async run(): Promise<void> {
    const { flags } = await this.parse(IndexDrop)
    // the index a store argument names (local:<name>, postgres://…#<name>) wins over --name: its group and its rows go together
    const spec = parseStoreSpec(flags.store, checkIndexName(flags.name))
    const name = spec.name
    const session = this.session(flags)
    const store = await openIndexStore(spec, { create: false })
    try {
      const plan = await planIndexDrop(session, store, name)
      this.out(`drop index ${plan.name}: ${plural(plan.rows, 'pointer row')} on ${plural(plan.partitions, 'partition')} in ${plan.store}; group ${plan.group}${plan.groupExists ? '' : ' (none)'}`)
      if (plan.members > 0) throw new EvtError('refused', `${plural(plan.members, 'worker')} still in ${plan.group}`, { hint: 'stop the index workers (evt index run) first, then drop again' })
      if (flags['dry-run']) return
      if (plan.rows === 0 && plan.partitions === 0 && !plan.groupExists) {
        this.out('nothing to remove')
        return
      }
      await confirmWrite(`Remove index ${plan.name}?`, { yes: flags.yes })
      const result = await dropIndex(session, store, plan)
      if (result.group === 'not-empty') throw new EvtError('refused', `a worker joined ${plan.group} meanwhile: nothing removed`, { hint: 'stop the index workers (evt index run) first, then drop again' })
      this.out(`removed ${plural(result.rows, 'pointer row')} and group ${plan.group}${result.group === 'not-found' ? ' (it did not exist)' : ''}`)
    } finally {
      await store.close()
    }
  }
}
