import { configPath, loadConfig } from '../../config/profiles.ts'
import { renderTable } from '../../output/table.ts'
import { EvtCommand } from '../../base-command.ts'
import { jsonFlag, withEnv } from '../../flags.ts'
import { redact } from '../../redact.ts'

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
    const rows = Object.entries(config.profiles).map(([name, p]) => ({
      name,
      default: name === config.default,
      brokers: redact(Array.isArray(p.brokers) ? p.brokers.join(',') : (p.brokers ?? '')),
      registry: redact(typeof p.registry === 'string' ? p.registry : (p.registry?.url ?? '')),
      sasl: p.sasl?.mechanism ?? '',
      tls: Boolean(p.tls),
    }))
    if (flags.json) return this.out(JSON.stringify({ path, default: config.default ?? null, profiles: rows }))
    if (rows.length === 0) return this.out(`no profiles in ${path}`)
    this.out(renderTable(['', 'PROFILE', 'BROKERS', 'REGISTRY', 'SASL', 'TLS'], rows.map((r) => [r.default ? '*' : '', r.name, r.brokers, r.registry, r.sasl || '-', r.tls ? 'yes' : 'no'])))
  }
}
