#!/usr/bin/env node
// The `flow-plugin` command. A committed file rather than dist/cli/main.js itself: npm links a
// package's bins at install time, before `npm run build` has written dist/, and skips a bin
// whose file does not exist yet (then `flow-plugin` is missing on a fresh `npm ci`).
import '../dist/cli/main.js';
