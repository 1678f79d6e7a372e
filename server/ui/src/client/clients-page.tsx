import { useEffect, useState } from 'preact/hooks';
import { request } from '../common/api';
import { ConfirmDialog } from '../common/confirm-dialog';
import { CopyableSecret } from '../common/copyable-secret';
import { fullDate, timeAgo } from '../common/date';
import { FormDialog } from '../common/form-dialog';
import { LoadState } from '../common/load-state';
import { notify } from '../common/notify';
import { useStore } from '../common/store';
import type { Client } from '../common/types';
import { logout, session } from '../session/session';
import { Icon } from '../common/icons';

export function ClientsPage() {
  const current = useStore(session);
  const myToken = current.state === 'loggedIn' ? current.token : '';
  const [clients, setClients] = useState<Client[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [creating, setCreating] = useState(false);
  const [newName, setNewName] = useState('');
  const [deleting, setDeleting] = useState<Client | null>(null);

  const load = async () => {
    setLoading(true);
    setError(null);
    try {
      setClients(await request<Client[]>('GET', 'client'));
    } catch (err) {
      setError(err);
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => void load(), []);

  return (
    <section class="page clients-page">
      <div class="page-header">
        <h4>Clients</h4>
        <div class="page-actions">
          <button
            type="button"
            id="create-client"
            class="button primary"
            onClick={() => {
              setNewName('');
              setCreating(true);
            }}
          >
            Create client
          </button>
        </div>
      </div>
      <p class="page-subtitle">Clients read messages: phones, desktop apps and this web page.</p>
      <LoadState loading={loading && clients.length === 0} error={error} onRetry={() => void load()} />
      {!error && (
        <div class="table-wrap card">
          <table id="client-table" class="table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Token</th>
                <th>Last used</th>
                <th>
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {clients.map((client) => (
                <tr key={client.id} data-id={client.id}>
                  <td class="name">
                    {client.name}
                    {client.token === myToken && <span class="badge current">this browser</span>}
                  </td>
                  <td class="token">
                    <CopyableSecret value={client.token} label={`token of ${client.name}`} />
                  </td>
                  <td class="last-used" title={client.lastUsed ? fullDate(client.lastUsed) : ''}>
                    {client.lastUsed ? timeAgo(client.lastUsed) : 'never'}
                  </td>
                  <td class="actions">
                    <button
                      type="button"
                      class="icon-button delete"
                      aria-label={`Delete ${client.name}`}
                      title="Delete"
                      onClick={() => setDeleting(client)}
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
      {creating && (
        <FormDialog
          title="Create a client"
          class="client-dialog"
          submitLabel="Create"
          submitClass="create"
          canSubmit={newName.trim() !== ''}
          onSubmit={async () => {
            await request('POST', 'client', { json: { name: newName.trim() } });
            notify.info(`Client ${newName.trim()} created`);
            await load();
          }}
          onClose={() => setCreating(false)}
        >
          <div class="field name">
            <label for="client-name">Name</label>
            <input id="client-name" name="name" required value={newName} onInput={(e) => setNewName(e.currentTarget.value)} />
          </div>
        </FormDialog>
      )}
      {deleting && (
        <ConfirmDialog
          title="Delete client"
          text={
            deleting.token === myToken
              ? `${deleting.name} is this browser's login: deleting it logs you out.`
              : `Delete ${deleting.name}? Devices using its token stop receiving messages.`
          }
          onConfirm={async () => {
            if (deleting.token === myToken) {
              await logout();
              return;
            }
            await request('DELETE', `client/${deleting.id}`);
            notify.info('Client deleted');
            await load();
          }}
          onClose={() => setDeleting(null)}
        />
      )}
    </section>
  );
}
