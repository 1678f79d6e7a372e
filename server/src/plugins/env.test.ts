import { describe, expect, it } from 'vitest';
import { pluginEnv } from './env.js';

describe('pluginEnv', () => {
  it('keeps only allowlisted variables, then adds the manifest env and the launch marker', () => {
    const env = pluginEnv(
      { PATH: '/bin', HOME: '/h', LC_ALL: 'C', LC_TIME: 'C', TZ: 'UTC', FLOW_DEFAULTUSER_PASS: 'x', AWS_SECRET_ACCESS_KEY: 'y', NODE_OPTIONS: '--inspect', HTTPS_PROXY: 'http://u:p@proxy' },
      { EXTRA: '1', PATH: '/opt/bin' },
      'tag.1.1',
    );
    expect(env).toEqual({ PATH: '/opt/bin', HOME: '/h', LC_ALL: 'C', LC_TIME: 'C', TZ: 'UTC', EXTRA: '1', FLOW_PLUGIN_PROTOCOL: '1.1', FLOW_PLUGIN_RUN: 'tag.1.1' });
  });

  it('does not let a manifest override the launch marker or the run id', () => {
    const env = pluginEnv({}, { FLOW_PLUGIN_PROTOCOL: '9.9', FLOW_PLUGIN_RUN: 'x' }, 'tag.1.1');
    expect(env.FLOW_PLUGIN_PROTOCOL).toBe('1.1');
    expect(env.FLOW_PLUGIN_RUN).toBe('tag.1.1');
  });
});
