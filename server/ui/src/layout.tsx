import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { AppAvatar } from './application/app-avatar';
import { applications } from './application/applications';
import { navigate } from './common/router';
import { streamState } from './message/stream';
import { unreadCapped, unreadCounts, unreadLabel } from './message/unread';
import { useStore } from './common/store';
import type { User } from './common/types';
import { PasswordDialog } from './session/password-dialog';
import { logout } from './session/session';

interface LayoutProps {
  user: User;
  path: string;
  children: ComponentChildren;
}

/** Set by the server for admins while the default admin keeps its default password (see the README). */
function usesDefaultAdminPassword(user: User): boolean {
  return (user as User & { defaultAdminPassword?: boolean }).defaultAdminPassword === true;
}

function NavLink({ id, href, path, children }: { id: string; href: string; path: string; children: ComponentChildren }) {
  const active = path === href.slice(1) || path.startsWith(`${href.slice(1)}/`);
  return (
    <a id={id} class={`nav-link${active ? ' active' : ''}`} href={href} aria-current={active ? 'page' : undefined}>
      {children}
    </a>
  );
}

/**
 * On a phone the applications sidebar would push every page down by several rows: there it becomes one
 * select. It names the current application's messages, or asks where to go on the other pages.
 */
function AppSelector({ path }: { path: string }) {
  const apps = useStore(applications);
  const counts = useStore(unreadCounts);
  const capped = useStore(unreadCapped);
  const value = path === '/' ? 'all' : /^\/messages\/\d+$/.test(path) ? path.slice('/messages/'.length) : '';
  return (
    <div class="app-selector">
      <label for="app-selector">Messages</label>
      <select id="app-selector" value={value} onChange={(e) => navigate(e.currentTarget.value === 'all' ? '/' : `/messages/${e.currentTarget.value}`)}>
        {value === '' && <option value="">Choose messages…</option>}
        <option value="all">All Messages</option>
        {apps.map((app) => {
          const unread = unreadLabel(app.id, counts, capped);
          return (
            <option key={app.id} value={String(app.id)}>
              {unread ? `${app.name} (${unread} unread)` : app.name}
            </option>
          );
        })}
      </select>
    </div>
  );
}

/** The header (pages, user, change password, logout) and the applications sidebar around every logged-in page. */
export function Layout({ user, path, children }: LayoutProps) {
  const apps = useStore(applications);
  const counts = useStore(unreadCounts);
  const capped = useStore(unreadCapped);
  const stream = useStore(streamState);
  const [changingPassword, setChangingPassword] = useState(false);
  return (
    <div class="layout">
      <a class="skip-link" href="#main-content" onClick={(e) => {
        // The hash holds the route: move the focus instead of following the link.
        e.preventDefault();
        document.getElementById('main-content')?.focus();
      }}>
        Skip to content
      </a>
      <header class="topbar">
        <a class="brand" href="#/" aria-label="Flow: all messages">
          <img src="./favicon.svg" alt="" width={28} height={28} />
          <span>Flow</span>
        </a>
        <nav class="topnav" aria-label="Pages">
          <NavLink id="navigate-apps" href="#/applications" path={path}>
            Apps
          </NavLink>
          <NavLink id="navigate-clients" href="#/clients" path={path}>
            Clients
          </NavLink>
          {user.admin && (
            <NavLink id="navigate-users" href="#/users" path={path}>
              Users
            </NavLink>
          )}
          <NavLink id="navigate-plugins" href="#/plugins" path={path}>
            Plugins
          </NavLink>
        </nav>
        <span class="user-name" title={user.admin ? 'Administrator' : 'User'}>
          {user.name}
        </span>
        <button
          type="button"
          id="changepw"
          class="button topbar-button"
          title={`Change the password of ${user.name}`}
          onClick={() => setChangingPassword(true)}
        >
          Change password
        </button>
        <button type="button" id="logout" class="button topbar-button" onClick={() => void logout()}>
          Logout
        </button>
      </header>
      {changingPassword && <PasswordDialog onClose={() => setChangingPassword(false)} />}
      {usesDefaultAdminPassword(user) && (
        <div class="default-password-banner" role="alert">
          <span>
            The administrator <strong>{user.name}</strong> still has the default password: anyone who knows it can
            log in. Change it now.
          </span>
          <button type="button" class="button primary small" onClick={() => setChangingPassword(true)}>
            Change password
          </button>
        </div>
      )}
      {stream === 'reconnecting' && (
        <div class="stream-banner" role="status">
          Connection to the server lost; new messages will appear once it is back. Reconnecting…
        </div>
      )}
      <AppSelector path={path} />
      <div class="columns">
        <nav id="message-navigation" class="sidebar" aria-label="Messages">
          <a class={`all side-link${path === '/' ? ' active' : ''}`} href="#/" aria-current={path === '/' ? 'page' : undefined}>
            All Messages
          </a>
          <div class="side-heading" aria-hidden="true">Applications</div>
          {apps.map((app) => {
            const active = path === `/messages/${app.id}`;
            const unread = unreadLabel(app.id, counts, capped);
            return (
              <a
                key={app.id}
                class={`item side-link${active ? ' active' : ''}`}
                href={`#/messages/${app.id}`}
                aria-current={active ? 'page' : undefined}
                data-id={app.id}
              >
                <AppAvatar app={app} name={app.name} size="small" />
                <span class="side-name">{app.name}</span>
                {unread && (
                  <span class="unread" title={`${unread} unread`}>
                    {unread}
                    <span class="sr-only"> unread</span>
                  </span>
                )}
              </a>
            );
          })}
          {apps.length === 0 && <p class="side-empty">None yet</p>}
        </nav>
        <main id="main-content" class="content-area" tabIndex={-1}>
          {children}
        </main>
      </div>
    </div>
  );
}
