import { configPath, loadConfig, profileRows } from '../../config/profiles.ts'
import { renderProfiles } from '../../output/profiles.ts'
import { EvtCommand } from '../../base-command.ts'
import { jsonFlag, withEnv } from '../../flags.ts'

export default class ProfilesList extends EvtCommand {
  static override summary = 'List connection profiles from the config file.'
  static override description = 'The config file is $EVT_CONFIG, else $XDG_CONFIG_HOME/evt/config.yaml, else ~/.config/evt/config.yaml. Credentials in URLs are redacted.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']
  static override flags = withEnv({ ...jsonFlag })

  async run(): Promise<void> {
    const { flags } = await this.parse(ProfilesList)
    this.setJsonOutput(flags.json)
    const path = configPath()
    const config = loadConfig(path, this.warning)
    const rows = profileRows(config)
    this.out(flags.json ? JSON.stringify({ path, default: config.default ?? null, profiles: rows }) : renderProfiles(path, rows))
  }
}
