/**
 * What a plugin must never get into a log line or a recording: the webhook tokens it was told
 * (in `webhookBasePath`) and the values of its instances' secret config keys.
 *
 * Tokens belong to the plugin (the same tokens are handed to every launch); secret values to
 * one session (its instances were configured with them), so each session makes its own
 * Redactor over the plugin's token set.
 */
export class Redactor {
  private readonly secrets = new Map<string, string[]>();

  constructor(private readonly tokens: Set<string>) {}

  /**
   * Masked wherever they appear, not only after `/custom/`: a plugin may print the bare token
   * or a URL-encoded path. Safe to call twice.
   */
  addToken(token: string): void {
    this.tokens.add(token);
  }

  /** Config values of an instance that must never appear in logs (the plugin's `secretKeys`). */
  setSecrets(instanceId: string, values: string[]): void {
    const kept = values.filter((v) => v.length >= 4);
    if (kept.length === 0) this.secrets.delete(instanceId);
    else this.secrets.set(instanceId, kept);
  }

  /** Webhook tokens and secret config values, for the session recorder's redaction. */
  *known(): Iterable<[string, string]> {
    for (const token of this.tokens) yield [token, 'webhook token'];
    for (const values of this.secrets.values()) for (const value of values) yield [value, 'secret config value'];
  }

  /** Masks webhook tokens and secret config values in a line the plugin wrote. */
  readonly redact = (line: string): string => {
    let out = line.replace(/(\/custom\/)[^/\s"']+/g, '$1[masked]');
    for (const t of this.tokens) if (out.includes(t)) out = out.split(t).join('[masked]');
    for (const values of this.secrets.values()) for (const v of values) if (out.includes(v)) out = out.split(v).join('[masked]');
    return out;
  };
}
