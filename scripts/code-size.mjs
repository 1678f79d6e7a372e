#!/usr/bin/env node
// Sizes the architecture section of server/README.md promises (issue 22): the largest source
// files, and every function longer than a bound, found with the TypeScript compiler's own
// parser (a function is any declaration, method, accessor, constructor, arrow or function
// expression; nested ones count on their own and inside their parent).
//
//   node scripts/code-size.mjs [--max-lines 60] [--max-file 300] [--top 5] <dir>...
//
// Exits 1 when a function is over --max-lines or a file over --max-file (tests excluded).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import ts from 'typescript';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { 'max-lines': { type: 'string', default: '60' }, 'max-file': { type: 'string', default: '300' }, top: { type: 'string', default: '5' } },
});
const maxLines = Number(values['max-lines']);
const maxFile = Number(values['max-file']);

function* sources(dir) {
  for (const entry of readdirSync(dir)) {
    const file = path.join(dir, entry);
    if (statSync(file).isDirectory()) yield* sources(file);
    else if (file.endsWith('.ts') && !file.endsWith('.test.ts') && !file.endsWith('.d.ts')) yield file;
  }
}

function nameOf(node) {
  if (node.name && ts.isIdentifier(node.name)) return node.name.text;
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  if (parent && ts.isPropertyAssignment(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  if (parent && ts.isPropertyDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  return '(anonymous)';
}

const files = [];
const functions = [];
for (const dir of positionals) {
  for (const file of sources(dir)) {
    const text = readFileSync(file, 'utf8');
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    files.push({ file, lines: text.split('\n').length - (text.endsWith('\n') ? 1 : 0) });
    const visit = (node) => {
      if (ts.isFunctionLike(node) && 'body' in node && node.body) {
        const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
        const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
        functions.push({ file, name: nameOf(node), line: start + 1, lines: end - start + 1 });
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
}

files.sort((a, b) => b.lines - a.lines);
functions.sort((a, b) => b.lines - a.lines);
const top = Number(values.top);
console.log(`largest files (of ${files.length}):`);
for (const f of files.slice(0, top)) console.log(`  ${f.lines}\t${f.file}`);
console.log(`longest functions (of ${functions.length}):`);
for (const f of functions.slice(0, top)) console.log(`  ${f.lines}\t${f.file}:${f.line} ${f.name}`);
const longFiles = files.filter((f) => f.lines > maxFile);
const longFunctions = functions.filter((f) => f.lines > maxLines);
for (const f of longFiles) console.log(`over ${maxFile} lines: ${f.file} (${f.lines})`);
for (const f of longFunctions) console.log(`over ${maxLines} lines: ${f.file}:${f.line} ${f.name} (${f.lines})`);
process.exit(longFiles.length + longFunctions.length > 0 ? 1 : 0);
