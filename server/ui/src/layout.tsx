import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { applications } from './application/applications';
import { streamState } from './message/stream';
import { useStore } from './common/store';
import type { User } from './common/types';
import { PasswordDialog } from './session/password-dialog';
import { logout } from './session/session';

interface LayoutProps {
  user: User;
  path: string;
  children: ComponentChildren;
}

function NavLink({ id, href, path, children }: { id: string; href: string; path: string; children: ComponentChildren }) {
  const active = path === href.slice(1) || path.startsWith(`${href.slice(1)}/`);
  return (
    <a id={id} class={`nav-link${active ? ' active' : ''}`} href={href} aria-current={active ? 'page' : undefined}>
      {children}
    </a>
  );
}

/** The header (pages, user, change password, logout) and the applications sidebar around every logged-in page. */
export function Layout({ user, path, children }: LayoutProps) {
  const apps = useStore(applications);
  const stream = useStore(streamState);
  const [changingPassword, setChangingPassword] = useState(false);
  return (
    <div class="layout">
      <header class="topbar">
        <a class="brand" href="#/">
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
      {stream === 'reconnecting' && (
        <div class="stream-banner" role="status">
          Connection to the server lost; new messages will appear once it is back. Reconnecting…
        </div>
      )}
      <div class="columns">
        <nav id="message-navigation" class="sidebar" aria-label="Messages">
          <a class={`all side-link${path === '/' ? ' active' : ''}`} href="#/">
            All Messages
          </a>
          <div class="side-heading">Applications</div>
          {apps.map((app) => (
            <a
              key={app.id}
              class={`item side-link${path === `/messages/${app.id}` ? ' active' : ''}`}
              href={`#/messages/${app.id}`}
            >
              {app.name}
            </a>
          ))}
          {apps.length === 0 && <p class="side-empty">None yet</p>}
        </nav>
        <main class="content-area">{children}</main>
      </div>
    </div>
  );
}
