#!/usr/bin/env node
// The `flow` command. A committed file rather than dist/main.js itself: npm links a package's
// bins at install time, before `npm run build` has written dist/.
import '../dist/main.js';
