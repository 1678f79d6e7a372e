// Checks of parsed config values beyond their type, used by rows of the key table (keys.ts).
import { isIP } from 'node:net';

/** An HTTP header name (RFC 9110 token) and a value without control characters (CR/LF would split the response). */
export function checkHeaderMap(map: Record<string, string>): string | undefined {
  for (const [name, value] of Object.entries(map)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) return `"${name}" is not a valid header name`;
    // eslint-disable-next-line no-control-regex
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(value)) return `the value of ${name} contains a control character`;
  }
  return undefined;
}

/** Each entry an IP address (v4 or v6) or a CIDR range of one, as Gotify's (gin's) trusted proxies. */
export function checkAddressList(list: readonly string[]): string | undefined {
  for (const entry of list) {
    const [address, prefix, ...rest] = entry.split('/');
    const family = isIP(address!);
    const bits = family === 4 ? 32 : 128;
    if (family === 0 || rest.length > 0 || (prefix !== undefined && !(/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits))) {
      return `"${entry}" is not an IP address or CIDR range (e.g. 10.0.0.0/8, ::1)`;
    }
  }
  return undefined;
}

export function checkRegexList(list: readonly string[]): string | undefined {
  for (const source of list) {
    try {
      new RegExp(source);
    } catch (err) {
      return `"${source}" is not a valid regular expression (${(err as Error).message})`;
    }
  }
  return undefined;
}

/** Empty, or an absolute http(s) URL without query or fragment (a base URL other servers prefix paths with). */
export function checkBaseUrl(value: string): string | undefined {
  if (value === '') return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `"${value}" is not a URL (e.g. http://10.0.0.5:8080)`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `"${value}" is not an http:// or https:// URL`;
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') return `"${value}" must be a base URL without credentials, query or fragment`;
  return undefined;
}

/** Empty, or a shared secret long enough not to be guessed; the text never repeats the value (it is secret). */
export function checkSharedSecret(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length < 16) return `the secret has ${value.length} characters: use at least 16 (e.g. openssl rand -hex 32)`;
  return undefined;
}
