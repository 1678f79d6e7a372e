/** Thrown for a bad command line: the CLI prints it with the usage and exits 2. */
export class UsageError extends Error {}

export interface ParsedArgs {
  /** `--name value` options (and `--name` alone as "true"). */
  options: Map<string, string>;
  /** Arguments before `--` that are not options. */
  positional: string[];
  /** Everything after `--`: the plugin's command line. */
  command: string[];
}

/**
 * The tiny flag grammar every replay command shares: options before `--`, the plugin's own
 * command line after it (so the plugin's flags are never mistaken for ours).
 */
export function parseArgs(args: readonly string[], valued: readonly string[], flags: readonly string[] = []): ParsedArgs {
  const split = args.indexOf('--');
  const ours = split === -1 ? args : args.slice(0, split);
  const command = split === -1 ? [] : args.slice(split + 1);
  const options = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < ours.length; i++) {
    const arg = ours[i]!;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (flags.includes(name)) options.set(name, 'true');
    else if (valued.includes(name)) {
      const value = inline ?? ours[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      options.set(name, value);
    } else throw new UsageError(`unknown option --${name}`);
  }
  return { options, positional, command };
}

/** A positive integer option in milliseconds. */
export function msOption(parsed: ParsedArgs, name: string): number | undefined {
  const raw = parsed.options.get(name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new UsageError(`--${name} must be a positive number of milliseconds (got "${raw}")`);
  return value;
}

/**
 * A command's options read by `read` (which throws UsageError for a bad command line), or
 * undefined once the error and the command's usage went to stderr: the command then exits 2.
 */
export function readOptions<T>(command: { name: string; usage: string }, read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`flow-plugin ${command.name}: ${error.message}\n\n${command.usage}\n`);
    return undefined;
  }
}
