import { useState } from 'preact/hooks';
import { apiUrl } from '../common/base-url';
import { ConfirmDialog } from '../common/confirm-dialog';
import { notify } from '../common/notify';
import { LastUsedCell, ResourcePage, RowButton, TokenCell } from '../common/resource-page';
import { useStore } from '../common/store';
import type { Application } from '../common/types';
import { ApplicationDialog } from './application-dialog';
import { applications, createApplication, deleteApplication, loadApplications, updateApplication } from './applications';
import { ImageControls } from './image-controls';
import { useLoad } from '../common/use-load';

type Editing = { kind: 'create' } | { kind: 'edit'; app: Application } | { kind: 'delete'; app: Application } | null;

export function ApplicationsPage() {
  const apps = useStore(applications);
  const load = useLoad(loadApplications);
  const [editing, setEditing] = useState<Editing>(null);

  return (
    <ResourcePage
      class="applications-page"
      title="Applications"
      subtitle={
        <>
          Applications send messages with their token: <code>POST /message</code>. Try it with a copied token:{' '}
          <code class="send-example">curl "{apiUrl('message')}?token=&lt;token&gt;" -F "title=Hello" -F "message=It works"</code>
        </>
      }
      create={{ id: 'create-app', label: 'Create application', onClick: () => setEditing({ kind: 'create' }) }}
      table={{ id: 'app-table', columns: ['Image', 'Name', 'Token', 'Description', 'Priority', 'Last used'] }}
      load={load}
      empty="No applications yet. Create one to get a token for sending messages."
      rows={apps.map((app) => (
        <tr key={app.id} data-id={app.id}>
          <td class="image" data-label="Image">
            <ImageControls app={app} compact />
          </td>
          <td class="name" data-label="Name">
            <a href={`#/messages/${app.id}`}>{app.name}</a>
            {app.internal && (
              <span class="badge internal" title="Created by a plugin to send its messages">
                plugin
              </span>
            )}
          </td>
          <TokenCell token={app.token} name={app.name} />
          <td class="description" data-label="Description">{app.description}</td>
          <td class="priority" data-label="Priority">{app.defaultPriority}</td>
          <LastUsedCell lastUsed={app.lastUsed} />
          <td class="actions">
            <RowButton action="edit" name={app.name} onClick={() => setEditing({ kind: 'edit', app })} />
            <RowButton
              action="delete"
              name={app.name}
              title={app.internal ? 'A plugin application cannot be deleted while its plugin is installed' : 'Delete'}
              disabled={app.internal}
              onClick={() => setEditing({ kind: 'delete', app })}
            />
          </td>
        </tr>
      ))}
    >
      {editing?.kind === 'create' && (
        <ApplicationDialog
          onSubmit={async (input) => {
            await createApplication(input);
            notify.info(`Application ${input.name} created`);
          }}
          onClose={() => setEditing(null)}
        />
      )}
      {editing?.kind === 'edit' && (
        <ApplicationDialog
          app={editing.app}
          onSubmit={async (input) => {
            await updateApplication(editing.app.id, input);
            notify.info('Application updated');
          }}
          onClose={() => setEditing(null)}
        />
      )}
      {editing?.kind === 'delete' && (
        <ConfirmDialog
          title="Delete application"
          text={`Delete ${editing.app.name} and all of its messages?`}
          onConfirm={async () => {
            await deleteApplication(editing.app.id);
            notify.info('Application deleted');
          }}
          onClose={() => setEditing(null)}
        />
      )}
    </ResourcePage>
  );
}
