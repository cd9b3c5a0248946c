import { Args } from '@oclif/core'
import YAML from 'yaml'
import { EvtCommand } from '../../base-command.ts'
import { configPath, loadConfig, redactProfile, selectProfile } from '../../config/profiles.ts'
import { usageError } from '../../errors.ts'
import { jsonFlag, withEnv } from '../../flags.ts'

export default class ProfilesShow extends EvtCommand {
  static override summary = 'Show one profile (the default one without a name), secrets redacted.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> prod --json']
  static override args = { name: Args.string({ ignoreStdin: true, description: 'Profile name (default: $EVT_PROFILE, else the file\'s default).' }) }
  static override flags = withEnv({ ...jsonFlag })

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ProfilesShow)
    this.setJsonOutput(flags.json)
    const path = configPath()
    const { name, profile } = selectProfile(loadConfig(path, this.warning), args.name ?? process.env.EVT_PROFILE, path)
    if (!name || !profile) throw usageError(`no profile named and no default in ${path}`, 'pass a name, or set one with: evt profiles use <name>')
    const shown = { name, ...redactProfile(profile) }
    this.out(flags.json ? JSON.stringify(shown) : YAML.stringify(shown).trimEnd())
  }
}
