import { useState } from 'preact/hooks';
import { request } from '../common/api';
import { FormDialog } from '../common/form-dialog';
import { notify } from '../common/notify';
import { reloadCurrentUser } from './session';

/**
 * Changes the logged-in user's password (`POST /current/user/password`, as Gotify's header does).
 * The session stays: client tokens do not depend on the password. Ids and classes follow Gotify's UI
 * (`#changepw-dialog`, `.newpass`, `button.change`).
 */
export function PasswordDialog({ onClose }: { onClose: () => void }) {
  const [pass, setPass] = useState('');
  const [confirm, setConfirm] = useState('');
  return (
    <FormDialog
      title="Change password"
      class="changepw-dialog"
      submitLabel="Change"
      submitClass="change"
      canSubmit
      onSubmit={async () => {
        // Checked here rather than by disabling the button, so the user reads why nothing happens.
        if (pass === '') throw new Error('Enter a new password: it must not be empty.');
        if (pass !== confirm) throw new Error('The two passwords do not match. Type the same password twice.');
        await request('POST', 'current/user/password', { json: { pass } });
        notify.info('Password changed. Use the new password the next time you log in.');
        // The default-password banner goes once the server no longer reports it.
        await reloadCurrentUser().catch(() => {});
      }}
      onClose={onClose}
    >
      <div class="field newpass">
        <label for="changepw-new">New password</label>
        <input
          id="changepw-new"
          name="newpass"
          type="password"
          autocomplete="new-password"
          autofocus
          value={pass}
          onInput={(e) => setPass(e.currentTarget.value)}
        />
      </div>
      <div class="field confirmpass">
        <label for="changepw-confirm">Confirm new password</label>
        <input
          id="changepw-confirm"
          name="confirmpass"
          type="password"
          autocomplete="new-password"
          value={confirm}
          onInput={(e) => setConfirm(e.currentTarget.value)}
        />
      </div>
    </FormDialog>
  );
}
