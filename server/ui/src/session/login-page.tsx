import { useState } from 'preact/hooks';
import { ApiError, errorMessage } from '../common/api';
import { ActionError, useAction } from '../common/use-action';
import { login } from './session';

export function LoginPage() {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const { busy, error, run } = useAction(
    () => login(username, password),
    // The API's own 401 text speaks of tokens; at the login form the cause is the credentials.
    (err) => (err instanceof ApiError && err.status === 401 ? 'Unauthorized: wrong user name or password' : errorMessage(err)),
  );

  return (
    <main class="login-main">
      <form id="login-form" class="card login-card" onSubmit={run}>
        <div class="login-brand">
          <img src="./favicon.svg" alt="" width={40} height={40} />
          <span>Flow</span>
        </div>
        <h4>Login</h4>
        <div class="field name">
          <label for="username">Username</label>
          <input
            id="username"
            name="username"
            autocomplete="username"
            required
            autofocus
            value={username}
            onInput={(e) => setUsername(e.currentTarget.value)}
          />
        </div>
        <div class="field password">
          <label for="password">Password</label>
          <input
            id="password"
            name="password"
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </div>
        <ActionError error={error} />
        <button type="submit" class="button primary login" disabled={busy}>
          {busy ? 'Logging in…' : 'Login'}
        </button>
      </form>
    </main>
  );
}
