import { dismiss, notices } from './notify';
import { useStore } from './store';
import { Icon } from './icons';

/** Renders the notice queue at the bottom of the page. */
export function Snackbar() {
  const list = useStore(notices);
  return (
    <div class="snackbar" aria-live="polite">
      {list.map((notice) => (
        <div
          key={notice.id}
          class={`notice notice-${notice.kind}`}
          role={notice.kind === 'error' ? 'alert' : 'status'}
        >
          <span class="notice-text">{notice.text}</span>
          <button type="button" class="icon-button" aria-label="Dismiss" onClick={() => dismiss(notice.id)}>
            <Icon name="close" />
          </button>
        </div>
      ))}
    </div>
  );
}
