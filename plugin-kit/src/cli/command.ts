/** One `flow-plugin` subcommand; each lives in its own file and main.ts lists them. */
export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  usage: string;
  /** Resolves with the exit code. */
  run(args: string[]): Promise<number>;
}
