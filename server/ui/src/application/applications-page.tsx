import { useEffect, useState } from 'preact/hooks';
import { errorMessage } from '../common/api';
import { ConfirmDialog } from '../common/confirm-dialog';
import { CopyableSecret } from '../common/copyable-secret';
import { fullDate, timeAgo } from '../common/date';
import { LoadState } from '../common/load-state';
import { notify } from '../common/notify';
import { useStore } from '../common/store';
import type { Application } from '../common/types';
import { ApplicationDialog } from './application-dialog';
import {
  applications,
  createApplication,
  deleteApplication,
  loadApplications,
  updateApplication,
  uploadApplicationImage,
} from './applications';
import { AppAvatar } from './app-avatar';
import { Icon } from '../common/icons';

type Editing = { kind: 'create' } | { kind: 'edit'; app: Application } | { kind: 'delete'; app: Application } | null;

export function ApplicationsPage() {
  const apps = useStore(applications);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [editing, setEditing] = useState<Editing>(null);

  const load = async () => {
    setLoading(true);
    setError(null);
    try {
      await loadApplications();
    } catch (err) {
      setError(err);
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => void load(), []);

  const upload = async (app: Application, file: File) => {
    try {
      await uploadApplicationImage(app.id, file);
      notify.info('Image uploaded');
    } catch (err) {
      notify.error(errorMessage(err));
    }
  };

  return (
    <section class="page applications-page">
      <div class="page-header">
        <h4>Applications</h4>
        <div class="page-actions">
          <button type="button" id="create-app" class="button primary" onClick={() => setEditing({ kind: 'create' })}>
            Create application
          </button>
        </div>
      </div>
      <p class="page-subtitle">Applications send messages with their token: <code>POST /message</code>.</p>
      <LoadState loading={loading && apps.length === 0} error={error} onRetry={() => void load()} />
      {!error && (
        <div class="table-wrap card">
          <table id="app-table" class="table">
            <thead>
              <tr>
                <th>Image</th>
                <th>Name</th>
                <th>Token</th>
                <th>Description</th>
                <th>Priority</th>
                <th>Last used</th>
                <th>
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {apps.map((app) => (
                <tr key={app.id} data-id={app.id}>
                  <td class="image">
                    <span class="image-cell">
                      <AppAvatar app={app} name={app.name} />
                      <label class="icon-button upload-image" title="Upload an image">
                        <Icon name="upload" />
                        <span class="sr-only">Upload an image for {app.name}</span>
                        <input
                          type="file"
                          class="sr-only"
                          accept="image/png,image/jpeg,image/gif"
                          onChange={(e) => {
                            const file = e.currentTarget.files?.[0];
                            e.currentTarget.value = '';
                            if (file) void upload(app, file);
                          }}
                        />
                      </label>
                    </span>
                  </td>
                  <td class="name">
                    <a href={`#/messages/${app.id}`}>{app.name}</a>
                    {app.internal && (
                      <span class="badge internal" title="Created by a plugin to send its messages">
                        plugin
                      </span>
                    )}
                  </td>
                  <td class="token">
                    <CopyableSecret value={app.token} label={`token of ${app.name}`} />
                  </td>
                  <td class="description">{app.description}</td>
                  <td class="priority">{app.defaultPriority}</td>
                  <td class="last-used" title={app.lastUsed ? fullDate(app.lastUsed) : ''}>
                    {app.lastUsed ? timeAgo(app.lastUsed) : 'never'}
                  </td>
                  <td class="actions">
                    <button
                      type="button"
                      class="icon-button edit"
                      aria-label={`Edit ${app.name}`}
                      title="Edit"
                      onClick={() => setEditing({ kind: 'edit', app })}
                    >
                      <Icon name="edit" />
                    </button>
                    <button
                      type="button"
                      class="icon-button delete"
                      aria-label={`Delete ${app.name}`}
                      title={app.internal ? 'A plugin application cannot be deleted while its plugin is installed' : 'Delete'}
                      disabled={app.internal}
                      onClick={() => setEditing({ kind: 'delete', app })}
                    >
                      <Icon name="trash" />
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {!loading && apps.length === 0 && <p class="empty">No applications yet.</p>}
        </div>
      )}
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
    </section>
  );
}
