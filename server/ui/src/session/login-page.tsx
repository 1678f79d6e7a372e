import { useState } from 'preact/hooks';
import { errorMessage } from '../common/api';
import { login } from './session';

export function LoginPage() {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await login(username, password);
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  };

  return (
    <main class="login-main">
      <form id="login-form" class="card login-card" onSubmit={submit}>
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
        {error && (
          <p class="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="button primary login" disabled={busy}>
          {busy ? 'Logging in…' : 'Login'}
        </button>
      </form>
    </main>
  );
}
