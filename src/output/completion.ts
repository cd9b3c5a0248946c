/**
 * The bash snippet that adds topic and group names to evt's shell completion (printed by
 * `evt __complete bash`). It runs after @oclif/plugin-autocomplete's own function
 * (`_evt_autocomplete`, which completes commands and flags), when that is loaded, and adds
 * `evt __complete topics` (or `groups`) names for the argument positions that take them.
 */

/** Commands whose argument is a topic (`replay` also has subcommands, completed beside the names). */
export const TOPIC_ARGUMENT_COMMANDS = ['tail', 'dlq inspect', 'dlq requeue', 'topics delete', 'replay', 'produce'] as const

/** Commands whose argument is a consumer group. */
export const GROUP_ARGUMENT_COMMANDS = ['groups', 'groups delete', 'groups reset'] as const

/** Commands that take several of them (every argument position is completed). */
const REPEATED = new Set(['tail', 'topics delete', 'groups delete'])

/** Flags (of any command) whose value is a topic, or a group. */
const TOPIC_FLAGS = ['-t', '--topic', '--to-topic']
const GROUP_FLAGS = ['--group']

/** bash case patterns for these commands: the command itself, and after an argument for the repeated ones. */
function patterns(commands: readonly string[]): string {
  return commands.flatMap((c) => (REPEATED.has(c) ? [`"${c}"`, `"${c} "*`] : [`"${c}"`])).join('|')
}

/** The bash completion snippet for the binary `bin` (normally evt). */
export function bashCompletionScript(bin = 'evt'): string {
  const fn = `_${bin.replace(/[^A-Za-z0-9_]/g, '_')}`
  return `# evt: topic and group names in completion (see README, "Shell completion")
${fn}_names() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" kind="" words="" w
  # the command typed so far: the words before the current one that are not flags or their values
  for w in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do [[ $w == -* ]] && break; words="\${words:+$words }$w"; done
  case "$prev" in
    ${TOPIC_FLAGS.join('|')}) kind=topics ;;
    ${GROUP_FLAGS.join('|')}) kind=groups ;;
    -*) ;;
    *)
      if [[ $cur != -* ]]; then
        case "$words" in
          ${patterns(GROUP_ARGUMENT_COMMANDS)}) kind=groups ;;
          ${patterns(TOPIC_ARGUMENT_COMMANDS)}) kind=topics ;;
        esac
      fi ;;
  esac
  COMPREPLY=()
  if declare -F ${fn}_autocomplete >/dev/null && [[ $prev != -* || -z $kind ]]; then ${fn}_autocomplete; fi
  if [[ -n $kind ]]; then
    local IFS=$'\\n'
    COMPREPLY+=($(compgen -W "$(${bin} __complete "$kind" 2>/dev/null)" -- "$cur"))
  fi
}
complete -F ${fn}_names ${bin}
`
}
