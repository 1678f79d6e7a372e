#!/usr/bin/env node
// `prepack`/`postpack` of the published libraries (@flow/protocol, @flow/plugin-kit): run by npm
// in the package's folder around `npm pack` / `npm publish`. A package gets what it must carry but
// that lives once at the repository's root: the LICENSE, and for the kit the conformance
// transcripts of spec/conformance/ (`flow-plugin check` reads them from the package when it is
// installed outside a checkout). postpack removes the copies again; they are git-ignored in case
// a pack is interrupted.
//
// A pack of a stale build would publish old code: prepack refuses unless `npm run build` ran
// after the last change to the sources.
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ROOT, staleReason } from './build-state.mjs';

const step = process.argv[2];
const pkgDir = process.cwd();
const pkg = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
const carriesConformance = pkg.name === '@flow/plugin-kit';

/** [source under ROOT, destination under the package] */
const copies = [['LICENSE', 'LICENSE']];
if (carriesConformance) copies.push(['spec/conformance', 'conformance']);

if (step === 'prepack') {
  const why = staleReason();
  if (why !== undefined) {
    process.stderr.write(`${pkg.name}: not packing a stale build (${why}): run \`npm run build\` at the repository root first\n`);
    process.exit(1);
  }
  for (const [from, to] of copies) {
    const dst = path.join(pkgDir, to);
    rmSync(dst, { recursive: true, force: true });
    const src = path.join(ROOT, from);
    if (from === 'spec/conformance') {
      mkdirSync(dst);
      for (const f of readdirSync(src).filter((f) => f.endsWith('.jsonl'))) cpSync(path.join(src, f), path.join(dst, f));
    } else cpSync(src, dst);
  }
} else if (step === 'postpack') {
  for (const [, to] of copies) {
    const dst = path.join(pkgDir, to);
    if (existsSync(dst)) rmSync(dst, { recursive: true, force: true });
  }
} else {
  process.stderr.write('usage: node scripts/pack-library.mjs prepack|postpack (run by npm in a package folder)\n');
  process.exit(2);
}
