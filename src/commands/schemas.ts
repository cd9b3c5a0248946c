import { Args } from '@oclif/core'
import { EvtCommand } from '../base-command.ts'
import { parseSchemaSelector } from '../codec/registry.ts'
import { connectionFlags, jsonFlag, withEnv } from '../flags.ts'
import { renderSchema, renderSubjects } from '../output/schemas.ts'
import { listSubjects, showSchema } from '../services/schemas.ts'

export default class Schemas extends EvtCommand {
  static override summary = 'List the schema registry\'s subjects with versions and types, or show one schema.'
  static override description = `Talks to the registry given by --registry, EVT_SCHEMA_REGISTRY_URL or the profile (Confluent API; for Apicurio Registry use its /apis/ccompat/v7 URL).

Without a subject: one line per subject with its type (avro, protobuf, json-schema), versions, latest version and its schema id; --json prints [{"subject","type","versions","latestVersion","latestId"}].
With <subject>[:version]: that version (default the latest) with its id, type and references, then the schema (Avro and JSON Schema pretty-printed); --json prints {"subject","version","versions","id","type","references":[{"name","subject","version"}],"schema"}.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> --registry http://localhost:8081',
    '<%= config.bin %> <%= command.id %> orders-value',
    '<%= config.bin %> <%= command.id %> orders-value:2 --json | jq -r .schema',
  ]
  static override args = {
    subject: Args.string({ ignoreStdin: true, description: 'Subject to show, optionally with :version (default: the latest).' }),
  }
  static override flags = withEnv({ ...connectionFlags, ...jsonFlag })

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Schemas)
    this.setJsonOutput(flags.json)
    const connection = this.connection(flags)
    if (args.subject) {
      const selector = parseSchemaSelector(args.subject, 'subject')
      const detail = await showSchema(connection, selector.subject!, selector.version)
      this.out(flags.json ? JSON.stringify(detail) : renderSchema(detail))
    } else {
      const subjects = await listSubjects(connection)
      this.out(flags.json ? JSON.stringify(subjects) : renderSubjects(subjects))
    }
  }
}
