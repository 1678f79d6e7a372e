// Writes spec/schemas/ from the zod schemas (protocol/src/json-schemas.ts). Files no longer
// generated are removed, so a renamed schema does not leave a stale file behind.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generateSchemaFiles } from '../src/json-schemas.js';

const dir = fileURLToPath(new URL('../../spec/schemas/', import.meta.url));
mkdirSync(dir, { recursive: true });
const files = generateSchemaFiles();
for (const name of readdirSync(dir)) if (name.endsWith('.json') && !files.has(name)) rmSync(`${dir}${name}`);
for (const [name, text] of files) writeFileSync(`${dir}${name}`, text);
console.log(`wrote ${files.size} files to spec/schemas/`);
