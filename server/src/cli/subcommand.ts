import { Command, CommanderError } from 'commander';

/** Where a subcommand writes: the process's stdout/stderr, or a test's buffers. */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

export const stdio: CliIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

/** A `flow <verb>` command that writes its help and usage errors to `io` instead of exiting. */
export const subcommand = (name: string, io: CliIo): Command => new Command(name).exitOverride().configureOutput({ writeOut: io.out, writeErr: io.err });

/**
 * Parses `argv` and runs the action, which sets its exit code through `code`. Resolves to that
 * code; 0 after --help, 2 after a usage error (commander has written the message to `io`).
 */
export async function runSubcommand(program: Command, argv: readonly string[], code: () => number): Promise<number> {
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
  return code();
}
