import { useState } from 'preact/hooks';
import { FormDialog } from '../common/form-dialog';
import { useStore } from '../common/store';
import type { Application } from '../common/types';
import { applications, retentionOf, type ApplicationInput, type Retention } from './applications';
import { ImageControls } from './image-controls';

interface ApplicationDialogProps {
  /** The application to edit; a new one is created when absent. */
  app?: Application;
  onSubmit: (input: ApplicationInput) => Promise<void>;
  onClose: () => void;
}

const DAY = 86_400;

/** "" for no limit; otherwise a whole number ≥ 1, or NaN for anything else (the form says what is wrong). */
function parseLimit(text: string): number | null {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  return /^\d+$/.test(trimmed) && Number(trimmed) >= 1 ? Number(trimmed) : Number.NaN;
}

/** Days shown in the form, to three decimals (a limit set through the API may be any number of seconds). */
function daysText(seconds: number | null): string {
  if (seconds === null) return '';
  return String(Math.round((seconds / DAY) * 1000) / 1000);
}

export function ApplicationDialog({ app, onSubmit, onClose }: ApplicationDialogProps) {
  // The image changes at once, so the dialog shows the application as the store has it now.
  const live = useStore(applications).find((a) => a.id === app?.id) ?? app;
  const retention = app ? retentionOf(app) : undefined;
  const [name, setName] = useState(app?.name ?? '');
  const [description, setDescription] = useState(app?.description ?? '');
  const [priority, setPriority] = useState(String(app?.defaultPriority ?? 0));
  const [maxCount, setMaxCount] = useState(retention?.maxCount === null || !retention ? '' : String(retention.maxCount));
  const [maxDays, setMaxDays] = useState(daysText(retention?.maxAgeSeconds ?? null));

  const count = parseLimit(maxCount);
  const daysValue = maxDays.trim() === '' ? null : Number(maxDays);
  const daysValid = daysValue === null || (Number.isFinite(daysValue) && daysValue > 0);
  const countValid = count === null || !Number.isNaN(count);

  const input = (): ApplicationInput => {
    const base: ApplicationInput = { name: name.trim(), description, defaultPriority: Number(priority) || 0 };
    if (retention) {
      const next: Retention = {
        maxCount: count,
        // Untouched, the limit is sent back exactly as it was, not rounded through days.
        maxAgeSeconds:
          maxDays === daysText(retention.maxAgeSeconds) ? retention.maxAgeSeconds : daysValue === null ? null : Math.round(daysValue * DAY),
      };
      base.retention = next;
    }
    return base;
  };

  return (
    <FormDialog
      title={app ? `Edit ${app.name}` : 'Create an application'}
      class="app-dialog"
      submitLabel={app ? 'Save' : 'Create'}
      submitClass={app ? 'update' : 'create'}
      canSubmit={name.trim() !== '' && countValid && daysValid}
      onSubmit={() => onSubmit(input())}
      onClose={onClose}
    >
      {live && (
        <div class="field image">
          <span class="field-label">Image</span>
          <ImageControls app={live} />
        </div>
      )}
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
      {retention && (
        <fieldset class="retention">
          <legend>Keep messages</legend>
          <p class="field-help" id="retention-help">
            Older messages beyond these limits are deleted. Leave a field empty to keep messages without that limit.
          </p>
          <div class="field-row">
            <div class="field max-count">
              <label for="app-max-count">At most (messages)</label>
              <input
                id="app-max-count"
                name="maxCount"
                inputMode="numeric"
                placeholder="no limit"
                aria-describedby="retention-help"
                aria-invalid={!countValid}
                value={maxCount}
                onInput={(e) => setMaxCount(e.currentTarget.value)}
              />
              {!countValid && <span class="field-error">A whole number of at least 1, or empty.</span>}
            </div>
            <div class="field max-age">
              <label for="app-max-age">For at most (days)</label>
              <input
                id="app-max-age"
                name="maxAgeDays"
                inputMode="decimal"
                placeholder="no limit"
                aria-describedby="retention-help"
                aria-invalid={!daysValid}
                value={maxDays}
                onInput={(e) => setMaxDays(e.currentTarget.value)}
              />
              {!daysValid && <span class="field-error">A number of days above 0, or empty.</span>}
            </div>
          </div>
        </fieldset>
      )}
    </FormDialog>
  );
}
