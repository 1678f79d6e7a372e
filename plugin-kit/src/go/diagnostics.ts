/**
 * Turns `go build` output about the temporary copy into messages about the author's files:
 * paths point at the package folder the author gave, a missing entry point reads as Gotify's
 * loader says it, and a missing import names the Debian package that provides it.
 */
import path from 'node:path';
import type { EntryPoints } from './package.js';

export const GENERATED_FILE = 'zzzz_flow_plugin_main.go';
export const GENERATED_STDOUT_FILE = '0000_flow_plugin_stdout.go';

export interface BuildLocations {
  /** The copy's folder, where go build ran. */
  copyDir: string;
  /** The author's package folder, as they should see it (relative to their cwd when inside it). */
  sourceDir: string;
  gopath: string;
}

/** Debian's name for the package of a Go import path (its golang-*-dev naming rule). */
export function debianPackageOf(importPath: string): string {
  const parts = importPath.split('/');
  const host = parts[0]!.replace(/\.(com|org|in|io|net)$/, '');
  const repo = parts[0] === 'gopkg.in' ? parts.slice(1, 3) : parts.slice(1, 3);
  return `golang-${[host, ...repo].join('-').toLowerCase()}-dev`;
}

/** The author-facing text of a failed go build. */
export function explainBuildFailure(output: string, entry: EntryPoints, where: BuildLocations): string {
  const lines: string[] = [];
  const missing = new Set<string>();
  for (const raw of output.split('\n')) {
    let line = raw.replaceAll(where.copyDir + path.sep, `${where.sourceDir}${path.sep}`).replaceAll(where.copyDir, where.sourceDir);
    // go build names files relative to the package folder ("./main.go:3:2" or "main.go:3:2").
    if (!line.startsWith(`${where.sourceDir}${path.sep}`)) line = line.replace(/^(?:\.\/)?(?=[\w.-][\w./-]*\.go:\d+)/, `${where.sourceDir}${path.sep}`);
    line = line.replaceAll(where.gopath + path.sep, '$GOPATH/');
    if (line.includes(GENERATED_FILE)) {
      // The generated file only names the two entry points: an error there is one of them.
      for (const symbol of [entry.info, entry.instance]) {
        if (new RegExp(`undefined: ${symbol}\\b`).test(line)) missing.add(`missing ${symbol} symbol`);
        else if (line.includes(symbol)) missing.add(`${symbol} is not a function: ${line.replace(/^.*?: /, '')}`);
      }
      continue;
    }
    const notFound = /cannot find package "([^"]+)"/.exec(line);
    if (notFound) {
      const pkg = notFound[1]!;
      lines.push(`${line.replace(/ in any of:$/, '')}: install its Debian package (${debianPackageOf(pkg)}) or put its source under a folder listed in FLOW_GOPATH`);
      continue;
    }
    const notStd = /package ([\w/.]+) is not in GOROOT/.exec(line);
    if (notStd) {
      lines.push(`${line}: the plugin needs a newer Go than this one (${notStd[1]} is not in its standard library)`);
      continue;
    }
    // go build lists the folders it searched after "cannot find package": noise for the author.
    if (/^\t(\/|\$GOPATH\/)/.test(line)) continue;
    if (line.trim() !== '') lines.push(line);
  }
  return [...missing, ...lines].join('\n');
}
