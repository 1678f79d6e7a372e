import { useState } from 'preact/hooks';
import { errorMessage } from './api';
import { copyText } from './clipboard';
import { notify } from './notify';
import { Icon } from './icons';

/** Fifteen bullets, as Gotify shows a hidden token (its UI tests look for exactly this). */
export const HIDDEN = '•••••••••••••••';

interface CopyableSecretProps {
  value: string;
  label: string;
}

/** A token kept hidden until asked for, with a copy button that works without revealing it. */
export function CopyableSecret({ value, label }: CopyableSecretProps) {
  const [shown, setShown] = useState(false);
  const copy = async () => {
    try {
      await copyText(value);
      notify.info('Copied to clipboard');
    } catch (err) {
      notify.error(errorMessage(err));
    }
  };
  return (
    <span class="secret">
      <code class="secret-value">{shown ? value : HIDDEN}</code>
      <button
        type="button"
        class="icon-button toggle-secret toggle-visibility"
        aria-label={`${shown ? 'Hide' : 'Show'} ${label}`}
        title={shown ? 'Hide' : 'Show'}
        onClick={() => setShown(!shown)}
      >
        <Icon name={shown ? 'eyeOff' : 'eye'} />
      </button>
      <button
        type="button"
        class="icon-button copy-secret"
        aria-label={`Copy ${label}`}
        title="Copy"
        onClick={copy}
      >
        <Icon name="copy" />
      </button>
    </span>
  );
}
