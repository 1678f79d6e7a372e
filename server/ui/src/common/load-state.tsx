import { errorMessage } from './api';

interface LoadStateProps {
  loading: boolean;
  error: unknown;
  onRetry?: () => void;
}

/** What a page shows while its data loads or after loading failed: never a blank page. */
export function LoadState({ loading, error, onRetry }: LoadStateProps) {
  if (error) {
    return (
      <div class="error-box" role="alert">
        <span>{errorMessage(error)}</span>
        {onRetry && (
          <button type="button" class="button" onClick={onRetry}>
            Retry
          </button>
        )}
      </div>
    );
  }
  if (loading) return <p class="loading">Loading…</p>;
  return null;
}
