import { useEffect, useState } from 'preact/hooks';
import { ApiError, errorMessage } from '../common/api';
import { ActionError, useAction } from '../common/use-action';
import { loadAuthInfo, login, OIDC_LOGIN_PATH, type AuthInfo } from './session';

export function LoginPage() {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  // Until /auth/info answers, the password form shows (every server has it unless OIDC replaced it).
  const [info, setInfo] = useState<AuthInfo | null>(null);
  useEffect(() => {
    loadAuthInfo().then(setInfo, () => setInfo(null));
  }, []);
  const passwordForm = info?.localLogin ?? true;
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
        {info?.oidc && (
          <a id="oidc-login" class="button primary login oidc-login" href={OIDC_LOGIN_PATH}>
            Sign in with OIDC
          </a>
        )}
        {info?.oidc && passwordForm && (
          <p class="login-or" aria-hidden="true">
            or
          </p>
        )}
        {passwordForm ? (
          <PasswordFields
            username={username}
            password={password}
            setUsername={setUsername}
            setPassword={setPassword}
            busy={busy}
            error={error}
            autofocus={!info?.oidc}
          />
        ) : (
          <p class="login-note">Password login is disabled on this server.</p>
        )}
      </form>
    </main>
  );
}

function PasswordFields(props: {
  username: string;
  password: string;
  setUsername: (v: string) => void;
  setPassword: (v: string) => void;
  busy: boolean;
  error: string | null;
  autofocus: boolean;
}) {
  const { username, password, setUsername, setPassword, busy, error } = props;
  return (
    <>
      <div class="field name">
        <label for="username">Username</label>
        <input
          id="username"
          name="username"
          autocomplete="username"
          required
          autofocus={props.autofocus}
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
    </>
  );
}
