import { useEffect, useRef } from 'preact/hooks';
import { applications, loadApplications } from './application/applications';
import { ApplicationsPage } from './application/applications-page';
import { ClientsPage } from './client/clients-page';
import { errorMessage } from './common/api';
import { notify } from './common/notify';
import { matchRoute, navigate, useRoute } from './common/router';
import { Snackbar } from './common/snackbar';
import { useStore } from './common/store';
import { ErrorBoundary } from './error-boundary';
import { Layout } from './layout';
import { MessagesPage } from './message/messages-page';
import { onStreamMessage, onStreamReconnect, startStream, stopStream } from './message/stream';
import { countStreamMessage, refreshUnread, startUnread, stopUnread } from './message/unread';
import { PluginDetailPage } from './plugin/plugin-detail-page';
import { PluginsPage } from './plugin/plugins-page';
import { LoginPage } from './session/login-page';
import { restoreSession, session } from './session/session';
import { UsersPage } from './user/users-page';

const TITLES: [RegExp, string][] = [
  [/^\/login$/, 'Login'],
  [/^\/messages\//, 'Messages'],
  [/^\/applications$/, 'Applications'],
  [/^\/clients$/, 'Clients'],
  [/^\/users$/, 'Users'],
  [/^\/plugins/, 'Plugins'],
];

/** The browser tab names the page, so several open Flow tabs can be told apart. */
function titleOf(path: string): string {
  const page = TITLES.find(([pattern]) => pattern.test(path))?.[1] ?? 'Messages';
  return `${page} · Flow`;
}

function Page({ path }: { path: string }) {
  if (path === '/') return <MessagesPage />;
  const app = matchRoute('/messages/:id', path);
  if (app) return <MessagesPage key={app.id} appId={Number(app.id)} />;
  if (path === '/applications') return <ApplicationsPage />;
  if (path === '/clients') return <ClientsPage />;
  if (path === '/users') return <UsersPage />;
  if (path === '/plugins') return <PluginsPage />;
  const plugin = matchRoute('/plugins/:id', path);
  if (plugin) return <PluginDetailPage key={plugin.id} id={Number(plugin.id)} />;
  return (
    <div class="error-box" role="alert">
      There is no page at {path}. <a href="#/">Go to the messages</a>
    </div>
  );
}

export function App() {
  const current = useStore(session);
  const path = useRoute();

  useEffect(() => void restoreSession(), []);
  useEffect(() => {
    document.title = titleOf(path);
  }, [path]);

  const token = current.state === 'loggedIn' ? `session ${current.clientId}` : null;
  const userId = current.state === 'loggedIn' ? current.user.id : null;
  useEffect(() => {
    if (!token || userId === null) return;
    startStream(token);
    // Unread counts need both the applications and what this browser saw last; either may come first.
    const unreadReady = startUnread(userId).catch(() => {});
    let countedIds = '';
    const recount = (force = false) => {
      const apps = applications.get();
      const ids = apps.map((a) => a.id).join(',');
      if (!force && ids === countedIds) return;
      countedIds = ids;
      void unreadReady.then(() => refreshUnread(apps)).catch(() => {});
    };
    const offApps = applications.subscribe(() => recount());
    loadApplications().catch((err: unknown) => notify.error(errorMessage(err)));
    // Plugins may have created or renamed applications while the stream was down, and messages were missed.
    const offReconnect = onStreamReconnect(() => {
      void loadApplications().catch(() => {});
      recount(true);
    });
    const offMessage = onStreamMessage((message) => {
      countStreamMessage(message);
      // A message from an application the sidebar does not know yet (created elsewhere, or a plugin's).
      if (!applications.get().some((a) => a.id === message.appid)) void loadApplications().catch(() => {});
    });
    return () => {
      offApps();
      offReconnect();
      offMessage();
      stopStream();
      stopUnread();
      // The next user to log in in this tab must not see this one's applications, even briefly.
      applications.set([]);
    };
  }, [token, userId]);

  // Keep the URL telling where the user is: `#/login` while logged out. A link opened before logging in
  // (say `#/plugins/3`) is where the login then leads; after a logout the next login starts at the messages.
  const returnTo = useRef('/');
  const hadSession = useRef(false);
  useEffect(() => {
    if (current.state === 'loggedIn') hadSession.current = true;
    if (current.state === 'loggedOut' && path !== '/login') {
      returnTo.current = hadSession.current ? '/' : path;
      navigate('/login');
    }
    if (current.state === 'loggedIn' && path === '/login') {
      navigate(returnTo.current);
      returnTo.current = '/';
    }
  }, [current.state, path]);

  let body;
  if (current.state === 'checking') body = <p class="loading center">Loading…</p>;
  else if (current.state === 'unreachable') {
    body = (
      <main class="login-main">
        <div class="error-box" role="alert">
          <span>{current.error}</span>
          <button type="button" class="button" onClick={() => void restoreSession()}>
            Retry
          </button>
        </div>
      </main>
    );
  } else if (current.state === 'loggedOut') body = <LoginPage />;
  else {
    body = (
      <Layout user={current.user} path={path}>
        <ErrorBoundary resetKey={path}>
          <Page path={path === '/login' ? '/' : path} />
        </ErrorBoundary>
      </Layout>
    );
  }
  return (
    <>
      {/* The pages have their own boundary (inside the layout); this one catches the layout and login page. */}
      <ErrorBoundary resetKey={`${current.state} ${path}`}>{body}</ErrorBoundary>
      <Snackbar />
    </>
  );
}
