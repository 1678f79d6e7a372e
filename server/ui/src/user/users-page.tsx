import { useState } from 'preact/hooks';
import { request } from '../common/api';
import { ConfirmDialog } from '../common/confirm-dialog';
import { FormDialog } from '../common/form-dialog';
import { notify } from '../common/notify';
import { ResourcePage, RowButton } from '../common/resource-page';
import { useStore } from '../common/store';
import type { User } from '../common/types';
import { useLoad } from '../common/use-load';
import { reloadCurrentUser, session } from '../session/session';

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
  const load = useLoad(async () => setUsers(await request<User[]>('GET', 'user')));
  const [editing, setEditing] = useState<Editing>(null);
  const [deleting, setDeleting] = useState<User | null>(null);

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
    <ResourcePage
      class="users-page"
      title="Users"
      subtitle="Everyone who can log in. Each user has their own applications, clients, messages and plugin instances."
      create={{ id: 'create-user', label: 'Create user', onClick: () => setEditing({ kind: 'create' }) }}
      table={{ id: 'user-table', columns: ['Name', 'Admin'] }}
      load={load}
      rows={users.map((user) => (
        <tr key={user.id} data-id={user.id}>
          <td class="name" data-label="Name">
            {user.name}
            {user.id === me?.id && <span class="badge current">you</span>}
          </td>
          <td class="admin" data-label="Admin">{user.admin ? 'Yes' : 'No'}</td>
          <td class="actions">
            <RowButton action="edit" name={user.name} onClick={() => setEditing({ kind: 'edit', user })} />
            <RowButton action="delete" name={user.name} onClick={() => setDeleting(user)} />
          </td>
        </tr>
      ))}
    >
      {editing && (
        <UserDialog
          user={editing.kind === 'edit' ? editing.user : undefined}
          onSaved={async () => {
            await load.reload();
            // Also when another user changed: the default admin's new password ends the default-password banner.
            if (editing.kind === 'edit') await reloadCurrentUser();
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
            await load.reload();
          }}
          onClose={() => setDeleting(null)}
        />
      )}
    </ResourcePage>
  );
}
