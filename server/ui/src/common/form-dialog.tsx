import type { ComponentChildren } from 'preact';
import { Dialog } from './dialog';
import { ActionError, useAction } from './use-action';

interface FormDialogProps {
  title: string;
  /** Also the dialog's id (`#app-dialog`, as in Gotify's UI). */
  class: string;
  submitLabel: string;
  /** Extra class of the submit button: `create`, `update` or `change`, as in Gotify's UI. */
  submitClass: 'create' | 'update' | 'change';
  canSubmit: boolean;
  onSubmit: () => Promise<void>;
  onClose: () => void;
  children: ComponentChildren;
}

/** A dialog around a form: disables Submit while saving and keeps the dialog open with the error on failure. */
export function FormDialog({ title, class: className, submitLabel, submitClass, canSubmit, onSubmit, onClose, children }: FormDialogProps) {
  const { busy, error, run } = useAction(async () => {
    await onSubmit();
    onClose();
  });
  return (
    <Dialog title={title} id={className} class={className} onClose={onClose}>
      <form onSubmit={run}>
        {children}
        <ActionError error={error} />
        <div class="dialog-actions">
          <button type="button" class="button cancel" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class={`button primary save ${submitClass}`} disabled={busy || !canSubmit}>
            {submitLabel}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
