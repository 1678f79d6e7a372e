import { useState } from 'preact/hooks';
import { errorMessage } from '../common/api';
import { Icon } from '../common/icons';
import { notify } from '../common/notify';
import type { Application } from '../common/types';
import { AppAvatar, hasOwnImage } from './app-avatar';
import { removeApplicationImage, uploadApplicationImage } from './applications';

const ACCEPT = 'image/png,image/jpeg,image/gif';

interface ImageControlsProps {
  app: Application;
  /** `compact`: icon buttons (a table row); otherwise labelled buttons (the edit dialog). */
  compact?: boolean;
}

/**
 * The application's image with Upload (or Change) and Remove. The change is made at once through the API
 * (`POST`/`DELETE /application/:id/image`), not with the dialog's Save, as Gotify's UI does.
 */
export function ImageControls({ app, compact }: ImageControlsProps) {
  const [busy, setBusy] = useState(false);
  const own = hasOwnImage(app);
  const run = async (action: () => Promise<void>, done: string) => {
    setBusy(true);
    try {
      await action();
      notify.info(done);
    } catch (err) {
      notify.error(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  const uploadLabel = own ? 'Change image' : 'Upload image';
  const fileInput = (
    <input
      type="file"
      class="sr-only"
      accept={ACCEPT}
      disabled={busy}
      onChange={(e) => {
        const file = e.currentTarget.files?.[0];
        e.currentTarget.value = '';
        if (file) void run(() => uploadApplicationImage(app.id, file), own ? 'Image changed' : 'Image uploaded');
      }}
    />
  );
  if (compact) {
    return (
      <span class="image-cell">
        <AppAvatar app={app} name={app.name} size="medium" />
        <label class="icon-button upload-image" title={uploadLabel}>
          <Icon name="upload" />
          <span class="sr-only">
            {uploadLabel} of {app.name}
          </span>
          {fileInput}
        </label>
        {own && (
          <button
            type="button"
            class="icon-button remove-image"
            title="Remove image"
            aria-label={`Remove image of ${app.name}`}
            disabled={busy}
            onClick={() => void run(() => removeApplicationImage(app.id), 'Image removed')}
          >
            <Icon name="close" />
          </button>
        )}
      </span>
    );
  }
  return (
    <div class="image-controls">
      <AppAvatar app={app} name={app.name} />
      <div class="image-buttons">
        <label class="button small upload-image">
          <Icon name="upload" />
          {uploadLabel}
          {fileInput}
        </label>
        {own && (
          <button
            type="button"
            class="button small danger remove-image"
            disabled={busy}
            onClick={() => void run(() => removeApplicationImage(app.id), 'Image removed')}
          >
            Remove image
          </button>
        )}
        <span class="field-help">PNG, JPEG or GIF. Without one, the initials and colour stand in.</span>
      </div>
    </div>
  );
}
