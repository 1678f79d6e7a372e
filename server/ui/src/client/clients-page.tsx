import { useState } from 'preact/hooks';
import { request } from '../common/api';
import { ConfirmDialog } from '../common/confirm-dialog';
import { FormDialog } from '../common/form-dialog';
import { notify } from '../common/notify';
import { LastUsedCell, ResourcePage, RowButton, TokenCell } from '../common/resource-page';
import { useStore } from '../common/store';
import type { Client } from '../common/types';
import { useLoad } from '../common/use-load';
import { logout, session } from '../session/session';

export function ClientsPage() {
  const current = useStore(session);
  const myClientId = current.state === 'loggedIn' ? current.clientId : 0;
  const [clients, setClients] = useState<Client[]>([]);
  const load = useLoad(async () => setClients(await request<Client[]>('GET', 'client')));
  // The client being renamed, or null while a new one is created; undefined: no dialog.
  const [naming, setNaming] = useState<Client | null | undefined>(undefined);
  const [name, setName] = useState('');
  const [deleting, setDeleting] = useState<Client | null>(null);

  return (
    <ResourcePage
      class="clients-page"
      title="Clients"
      subtitle="Clients read messages: phones, desktop apps and this web page."
      create={{
        id: 'create-client',
        label: 'Create client',
        onClick: () => {
          setName('');
          setNaming(null);
        },
      }}
      table={{ id: 'client-table', columns: ['Name', 'Token', 'Last used'] }}
      load={load}
      rows={clients.map((client) => (
        <tr key={client.id} data-id={client.id}>
          <td class="name" data-label="Name">
            {client.name}
            {client.id === myClientId && <span class="badge current">this browser</span>}
          </td>
          <TokenCell token={client.token} name={client.name} />
          <LastUsedCell lastUsed={client.lastUsed} />
          <td class="actions">
            <RowButton
              action="edit"
              name={client.name}
              onClick={() => {
                setName(client.name);
                setNaming(client);
              }}
            />
            <RowButton action="delete" name={client.name} onClick={() => setDeleting(client)} />
          </td>
        </tr>
      ))}
    >
      {naming !== undefined && (
        <FormDialog
          title={naming ? `Rename ${naming.name}` : 'Create a client'}
          class="client-dialog"
          submitLabel={naming ? 'Save' : 'Create'}
          submitClass={naming ? 'update' : 'create'}
          canSubmit={name.trim() !== ''}
          onSubmit={async () => {
            if (naming) {
              await request('PUT', `client/${naming.id}`, { json: { name: name.trim() } });
              notify.info(`Client renamed to ${name.trim()}`);
            } else {
              await request('POST', 'client', { json: { name: name.trim() } });
              notify.info(`Client ${name.trim()} created`);
            }
            await load.reload();
          }}
          onClose={() => setNaming(undefined)}
        >
          <div class="field name">
            <label for="client-name">Name</label>
            <input id="client-name" name="name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
          </div>
        </FormDialog>
      )}
      {deleting && (
        <ConfirmDialog
          title="Delete client"
          text={
            deleting.id === myClientId
              ? `${deleting.name} is this browser's login: deleting it logs you out.`
              : `Delete ${deleting.name}? Devices using its token stop receiving messages.`
          }
          onConfirm={async () => {
            if (deleting.id === myClientId) {
              await logout();
              return;
            }
            await request('DELETE', `client/${deleting.id}`);
            notify.info('Client deleted');
            await load.reload();
          }}
          onClose={() => setDeleting(null)}
        />
      )}
    </ResourcePage>
  );
}
