// The executable: kept apart from plugin.ts so tests can import the plugin without serving stdin.
import { runPlugin } from '@flow/plugin-kit';
import { plugin } from './plugin.js';

runPlugin(plugin);
