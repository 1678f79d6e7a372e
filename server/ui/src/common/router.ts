import { useEffect, useState } from 'preact/hooks';

/**
 * Routes live in the URL hash (`#/plugins/3`), so the server only ever serves `index.html` at the UI's base
 * and the UI never collides with API paths such as `/plugin/3` or `/message`. It also keeps routing correct
 * under any reverse-proxy sub-path without knowing it.
 */
export function currentPath(): string {
  const path = decodeURI(location.hash.replace(/^#/, ''));
  return path.startsWith('/') ? path : `/${path}`;
}

export function navigate(path: string): void {
  if (currentPath() !== path) location.hash = path;
}

export function useRoute(): string {
  const [path, setPath] = useState(currentPath());
  useEffect(() => {
    const update = () => setPath(currentPath());
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return path;
}

/** Matches `/plugins/:id`-style patterns; returns the named parts or `null`. */
export function matchRoute(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split('/').filter(Boolean);
  const have = path.split('/').filter(Boolean);
  if (want.length !== have.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const part = want[i]!;
    if (part.startsWith(':')) params[part.slice(1)] = have[i]!;
    else if (part !== have[i]) return null;
  }
  return params;
}
