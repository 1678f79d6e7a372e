import { Dialog } from './dialog';
import { ActionError, useAction } from './use-action';

interface ConfirmDialogProps {
  title: string;
  text: string;
  confirmLabel?: string;
  onConfirm: () => Promise<void>;
  onClose: () => void;
}

/** Asks before a destructive action; the dialog stays open and shows the error if the action fails. */
export function ConfirmDialog({ title, text, confirmLabel = 'Delete', onConfirm, onClose }: ConfirmDialogProps) {
  const { busy, error, run } = useAction(async () => {
    await onConfirm();
    onClose();
  });
  return (
    <Dialog title={title} class="confirm-dialog" onClose={onClose}>
      <p>{text}</p>
      <ActionError error={error} />
      <div class="dialog-actions">
        <button type="button" class="button cancel" onClick={onClose}>
          Cancel
        </button>
        <button type="button" class="button danger confirm" disabled={busy} onClick={run}>
          {confirmLabel}
        </button>
      </div>
    </Dialog>
  );
}
