import type { ComponentChildren, JSX } from 'preact';
import { CopyableSecret } from './copyable-secret';
import { fullDate, timeAgo } from './date';
import { Icon } from './icons';
import { LoadState } from './load-state';
import type { Loading } from './use-load';

interface ResourcePageProps {
  /** The section's class, e.g. `applications-page`. */
  class: string;
  title: string;
  subtitle: ComponentChildren;
  /** The header's create button; its id is what tests click (`#create-app`). */
  create: { id: string; label: string; onClick: () => void };
  /** The table's id (`#app-table`, as in Gotify's UI) and header cells; an Actions column is added. */
  table: { id: string; columns: string[] };
  load: Loading;
  rows: JSX.Element[];
  /** Shown under the table once loading has finished with no rows. */
  empty?: string;
  /** The page's dialogs. */
  children?: ComponentChildren;
}

/**
 * The applications, clients and users pages: header with a create button, then one table row per
 * record, or the loading state or load error in place of the table.
 */
export function ResourcePage({ class: className, title, subtitle, create, table, load, rows, empty, children }: ResourcePageProps) {
  return (
    <section class={`page ${className}`}>
      <div class="page-header">
        <h4>{title}</h4>
        <div class="page-actions">
          <button type="button" id={create.id} class="button primary" onClick={create.onClick}>
            {create.label}
          </button>
        </div>
      </div>
      <p class="page-subtitle">{subtitle}</p>
      {/* "Loading…" only while the table is empty: a reload after a change keeps the rows. */}
      <LoadState loading={load.loading && rows.length === 0} error={load.error} onRetry={() => void load.reload()} />
      {!load.error && (
        <div class="table-wrap card">
          <table id={table.id} class="table">
            <thead>
              <tr>
                {table.columns.map((column) => (
                  <th key={column}>{column}</th>
                ))}
                <th>
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>{rows}</tbody>
          </table>
          {empty && !load.loading && rows.length === 0 && <p class="empty">{empty}</p>}
        </div>
      )}
      {children}
    </section>
  );
}

const ROW_ACTIONS = {
  edit: { label: 'Edit', icon: 'edit' },
  delete: { label: 'Delete', icon: 'trash' },
} as const;

interface RowButtonProps {
  action: keyof typeof ROW_ACTIONS;
  /** The record's name, for the screen-reader label ("Delete phone"). */
  name: string;
  /** Tooltip; "Edit" or "Delete" unless given. */
  title?: string;
  disabled?: boolean;
  onClick: () => void;
}

/** The edit or delete icon button in a row's actions cell. */
export function RowButton({ action, name, title, disabled, onClick }: RowButtonProps) {
  const { label, icon } = ROW_ACTIONS[action];
  return (
    <button
      type="button"
      class={`icon-button ${action}`}
      aria-label={`${label} ${name}`}
      title={title ?? label}
      disabled={disabled}
      onClick={onClick}
    >
      <Icon name={icon} />
    </button>
  );
}

/** The token cell of an application or client: hidden, with show and copy buttons. */
export function TokenCell({ token, name }: { token: string; name: string }) {
  return (
    <td class="token" data-label="Token">
      <CopyableSecret value={token} label={`token of ${name}`} />
    </td>
  );
}

/** When the token was last used: relative, with the full date as tooltip. */
export function LastUsedCell({ lastUsed }: { lastUsed?: string | null }) {
  return (
    <td class="last-used" data-label="Last used" title={lastUsed ? fullDate(lastUsed) : ''}>
      {lastUsed ? timeAgo(lastUsed) : 'never'}
    </td>
  );
}
