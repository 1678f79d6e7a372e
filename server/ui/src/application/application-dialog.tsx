import { useState } from 'preact/hooks';
import { FormDialog } from '../common/form-dialog';
import type { Application } from '../common/types';
import type { ApplicationInput } from './applications';

interface ApplicationDialogProps {
  /** The application to edit; a new one is created when absent. */
  app?: Application;
  onSubmit: (input: ApplicationInput) => Promise<void>;
  onClose: () => void;
}

export function ApplicationDialog({ app, onSubmit, onClose }: ApplicationDialogProps) {
  const [name, setName] = useState(app?.name ?? '');
  const [description, setDescription] = useState(app?.description ?? '');
  const [priority, setPriority] = useState(String(app?.defaultPriority ?? 0));
  return (
    <FormDialog
      title={app ? `Edit ${app.name}` : 'Create an application'}
      class="app-dialog"
      submitLabel={app ? 'Save' : 'Create'}
      submitClass={app ? 'update' : 'create'}
      canSubmit={name.trim() !== ''}
      onSubmit={() => onSubmit({ name: name.trim(), description, defaultPriority: Number(priority) || 0 })}
      onClose={onClose}
    >
      <div class="field name">
        <label for="app-name">Name</label>
        <input id="app-name" name="name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </div>
      <div class="field description">
        <label for="app-description">Description</label>
        <textarea
          id="app-description"
          name="description"
          rows={2}
          value={description}
          onInput={(e) => setDescription(e.currentTarget.value)}
        />
      </div>
      <div class="field priority">
        <label for="app-priority">Default priority</label>
        <input
          id="app-priority"
          name="defaultPriority"
          type="number"
          min={0}
          max={10}
          value={priority}
          onInput={(e) => setPriority(e.currentTarget.value)}
        />
      </div>
    </FormDialog>
  );
}
