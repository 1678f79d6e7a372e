import { useEffect, useState } from 'preact/hooks';
import { request } from '../common/api';
import { ConfirmDialog } from '../common/confirm-dialog';
import { FormDialog } from '../common/form-dialog';
import { LoadState } from '../common/load-state';
import { notify } from '../common/notify';
import { useStore } from '../common/store';
import type { User } from '../common/types';
import { reloadCurrentUser, session } from '../session/session';
import { Icon } from '../common/icons';

type Editing = { kind: 'create' } | { kind: 'edit'; user: User } | null;

interface UserDialogProps {
  user?: User;
  onSaved: () => Promise<void>;
  onClose: () => void;
}

function UserDialog({ user, onSaved, onClose }: UserDialogProps) {
  const [name, setName] = useState(user?.name ?? '');
  const [pass, setPass] = useState('');
  const [admin, setAdmin] = useState(user?.admin ?? false);
  return (
    <FormDialog
      title={user ? `Edit ${user.name}` : 'Create a user'}
      class="user-dialog"
      submitLabel={user ? 'Save' : 'Create'}
      submitClass={user ? 'update' : 'create'}
      canSubmit={name.trim() !== '' && (user !== undefined || pass !== '')}
      onSubmit={async () => {
        // An empty password on edit keeps the current one (Gotify's POST /user/:id semantics).
        const body: Record<string, unknown> = { name: name.trim(), admin };
        if (pass !== '' || !user) body.pass = pass;
        await request('POST', user ? `user/${user.id}` : 'user', { json: body });
        notify.info(user ? 'User updated' : `User ${name.trim()} created`);
        await onSaved();
      }}
      onClose={onClose}
    >
      <div class="field name">
        <label for="user-name">Username</label>
        <input id="user-name" name="name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </div>
      <div class="field password">
        <label for="user-pass">{user ? 'New password (leave empty to keep)' : 'Password'}</label>
        <input
          id="user-pass"
          name="pass"
          type="password"
          autocomplete="new-password"
          required={!user}
          value={pass}
          onInput={(e) => setPass(e.currentTarget.value)}
        />
      </div>
      <div class="field checkbox admin">
        <input id="user-admin" name="admin" type="checkbox" checked={admin} onChange={(e) => setAdmin(e.currentTarget.checked)} />
        <label for="user-admin">Administrator</label>
      </div>
    </FormDialog>
  );
}

export function UsersPage() {
  const current = useStore(session);
  const me = current.state === 'loggedIn' ? current.user : null;
  const [users, setUsers] = useState<User[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [editing, setEditing] = useState<Editing>(null);
  const [deleting, setDeleting] = useState<User | null>(null);

  const load = async () => {
    setLoading(true);
    setError(null);
    try {
      setUsers(await request<User[]>('GET', 'user'));
    } catch (err) {
      setError(err);
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => void load(), []);

  if (me && !me.admin) {
    return (
      <section class="page users-page">
        <h4>Users</h4>
        <div class="error-box" role="alert">
          Only administrators can manage users.
        </div>
      </section>
    );
  }

  return (
    <section class="page users-page">
      <div class="page-header">
        <h4>Users</h4>
        <div class="page-actions">
          <button type="button" id="create-user" class="button primary" onClick={() => setEditing({ kind: 'create' })}>
            Create user
          </button>
        </div>
      </div>
      <p class="page-subtitle">Everyone who can log in. Each user has their own applications, clients, messages and plugin instances.</p>
      <LoadState loading={loading && users.length === 0} error={error} onRetry={() => void load()} />
      {!error && (
        <div class="table-wrap card">
          <table id="user-table" class="table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Admin</th>
                <th>
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {users.map((user) => (
                <tr key={user.id} data-id={user.id}>
                  <td class="name">
                    {user.name}
                    {user.id === me?.id && <span class="badge current">you</span>}
                  </td>
                  <td class="admin">{user.admin ? 'Yes' : 'No'}</td>
                  <td class="actions">
                    <button
                      type="button"
                      class="icon-button edit"
                      aria-label={`Edit ${user.name}`}
                      title="Edit"
                      onClick={() => setEditing({ kind: 'edit', user })}
                    >
                      <Icon name="edit" />
                    </button>
                    <button
                      type="button"
                      class="icon-button delete"
                      aria-label={`Delete ${user.name}`}
                      title="Delete"
                      onClick={() => setDeleting(user)}
                    >
                      <Icon name="trash" />
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {editing && (
        <UserDialog
          user={editing.kind === 'edit' ? editing.user : undefined}
          onSaved={async () => {
            await load();
            if (editing.kind === 'edit' && editing.user.id === me?.id) await reloadCurrentUser();
          }}
          onClose={() => setEditing(null)}
        />
      )}
      {deleting && (
        <ConfirmDialog
          title="Delete user"
          text={`Delete ${deleting.name} with all of their applications, clients, messages and plugin settings?`}
          onConfirm={async () => {
            await request('DELETE', `user/${deleting.id}`);
            notify.info('User deleted');
            await load();
          }}
          onClose={() => setDeleting(null)}
        />
      )}
    </section>
  );
}
