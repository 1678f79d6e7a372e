import { TranscriptError, type Transcript } from '@flow/protocol';
import { loadTranscript } from '../replay/against-plugin.js';

/** The transcript in `file`, or undefined once why it cannot be read went to stderr (the command exits 2). */
export async function readTranscriptFile(commandName: string, file: string): Promise<Transcript | undefined> {
  try {
    return await loadTranscript(file);
  } catch (error) {
    const reason = error instanceof TranscriptError ? error.message : (error as Error).message;
    process.stderr.write(`flow-plugin ${commandName}: ${file}: ${reason}\n`);
    return undefined;
  }
}
