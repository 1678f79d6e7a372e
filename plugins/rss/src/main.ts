// The executable's entry: the plugin itself lives in plugin.ts so tests can import it without serving.
import { runPlugin } from '@flow/plugin-kit';
import { plugin } from './plugin.js';

runPlugin(plugin);
