import { LAUNCH_ENV } from './stdio.js';
import type { PluginDefinition } from './define.js';

// What a person sees when they run a plugin executable by hand.

/** The file name the plugin was started as ("flow-echo.mjs"), for the help text. */
export function executableName(): string {
  const script = process.argv[1] ?? 'plugin';
  return script.split('/').pop() ?? script;
}

function describe(definition: PluginDefinition): string {
  const { info } = definition;
  const version = info.version ? ` ${info.version}` : '';
  return info.name ? `${info.name}${version} (${info.modulePath})` : `${info.modulePath}${version}`;
}

/** The explanation printed (to stderr) when the plugin was not started by a host. */
export function banner(definition: PluginDefinition, self: string): string {
  const { info } = definition;
  return [
    `${describe(definition)}: a Flow plugin.`,
    info.description ? `${info.description}\n` : '',
    'It is started by the Flow server, which talks to it over stdin/stdout; running it by hand does nothing.',
    'To install it: copy this file into the server\'s plugins folder (config "pluginsdir", default <datadir>/plugins),',
    'make it executable, restart the server, then enable it for your user on the Plugins page.',
    '',
    `Capabilities: ${definition.capabilities.join(', ') || 'none (enable/disable only)'}`,
    `Run "${self} --info" for its info as JSON, "${self} --help" for all options.`,
    '',
  ]
    .filter((line, index) => line !== '' || index > 1)
    .join('\n');
}

/** `--help`. */
export function usage(definition: PluginDefinition, self: string): string {
  return [
    `${describe(definition)}: a Flow plugin.`,
    '',
    `Usage: ${self} [--info | --help | --stdio]`,
    '  --info    print its info, capabilities and protocol versions as one line of JSON',
    '  --help    print this help',
    `  --stdio   serve the protocol on stdin/stdout even without ${LAUNCH_ENV} (for debugging by hand)`,
    '',
    `The Flow server sets ${LAUNCH_ENV} when it starts a plugin from its plugins folder.`,
    '',
  ].join('\n');
}
