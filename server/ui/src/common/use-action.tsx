import { useState } from 'preact/hooks';
import { errorMessage } from './api';

/**
 * Runs the action of a form or dialog: `busy` while it runs; on failure `error` holds the text to
 * show and the form may be sent again. On success `busy` stays true, because the form goes away
 * (the dialog closes, the login page is replaced), and a second click must not send twice.
 * `run` can be a form's onSubmit as it is: it stops the browser's own submit.
 */
export function useAction(action: () => Promise<void>, describe: (err: unknown) => string = errorMessage) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async (event?: Event) => {
    event?.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(describe(err));
      setBusy(false);
    }
  };
  return { busy, error, run };
}

/** The failure text of `useAction`, announced to screen readers; nothing when there is none. */
export function ActionError({ error }: { error: string | null }) {
  return error ? (
    <p class="form-error" role="alert">
      {error}
    </p>
  ) : null;
}
