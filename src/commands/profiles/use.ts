import { Args } from '@oclif/core'
import { EvtCommand } from '../../base-command.ts'
import { configPath, setDefaultProfile } from '../../config/profiles.ts'

export default class ProfilesUse extends EvtCommand {
  static override summary = 'Make a profile the default (written to the config file, comments kept).'
  static override examples = ['<%= config.bin %> <%= command.id %> prod']
  static override args = { name: Args.string({ ignoreStdin: true, description: 'Profile name.', required: true }) }

  async run(): Promise<void> {
    const { args } = await this.parse(ProfilesUse)
    const path = configPath()
    setDefaultProfile(args.name, path, this.warning)
    this.note(`default profile is now "${args.name}" (${path})`)
  }
}
