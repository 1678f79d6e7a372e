import type { ComponentChildren } from 'preact';
import { editable, newItem, resolve, toPointer, typeOf, type ConfigIssue, type JsonSchema, type PathSegment } from './config-schema';

/** What the form does to the configuration; the configurer applies it to the YAML document. */
export interface FormEdits {
  set(path: PathSegment[], value: unknown): void;
  remove(path: PathSegment[]): void;
  append(path: PathSegment[], value: unknown): void;
}

interface Context {
  root: JsonSchema;
  issues: ConfigIssue[];
  edits: FormEdits;
  disabled: boolean;
}

const fieldId = (path: PathSegment[]) => `cfg${toPointer(path).replace(/[^A-Za-z0-9_-]/g, (c) => `_${c.charCodeAt(0).toString(16)}`)}`;

function labelOf(schema: JsonSchema, key: PathSegment): string {
  if (schema.title) return schema.title;
  if (typeof key === 'number') return `Item ${key + 1}`;
  // `poll_interval` → "Poll interval", `maxCount` → "Max count".
  const words = key.replace(/[_-]+/g, ' ').replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase().trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The issues reported at exactly this path, shown under its field and referenced by `aria-describedby`. */
function FieldIssues({ id, issues }: { id: string; issues: ConfigIssue[] }) {
  if (issues.length === 0) return null;
  return (
    <ul class="field-issues" id={`${id}-issues`}>
      {issues.map((issue, i) => (
        <li key={i} class="field-error">
          {issue.message}
        </li>
      ))}
    </ul>
  );
}

function issuesAt(ctx: Context, path: PathSegment[]): ConfigIssue[] {
  const pointer = toPointer(path);
  return ctx.issues.filter((issue) => issue.path === pointer);
}

function describedBy(id: string, schema: JsonSchema, issues: ConfigIssue[]): string | undefined {
  const ids = [schema.description ? `${id}-help` : '', issues.length > 0 ? `${id}-issues` : ''].filter(Boolean);
  return ids.length > 0 ? ids.join(' ') : undefined;
}

interface FieldProps {
  ctx: Context;
  schema: JsonSchema;
  path: PathSegment[];
  value: unknown;
  required: boolean;
  /** Shown by the parent (an array item's own remove button), instead of a label. */
  label?: string;
  after?: ComponentChildren;
}

function ScalarField({ ctx, schema, path, value, required, label, after }: FieldProps) {
  const id = fieldId(path);
  const type = typeOf(schema);
  const issues = issuesAt(ctx, path);
  const text = label ?? labelOf(schema, path[path.length - 1] ?? '');
  const common = {
    id,
    disabled: ctx.disabled,
    'aria-invalid': issues.length > 0 ? true : undefined,
    'aria-describedby': describedBy(id, schema, issues),
  };
  let control;
  if (type === 'boolean') {
    const checked = typeof value === 'boolean' ? value : schema.default === true;
    control = <input type="checkbox" {...common} checked={checked} onChange={(e) => ctx.edits.set(path, e.currentTarget.checked)} />;
  } else if (schema.enum) {
    const current = value === undefined ? '' : JSON.stringify(value);
    control = (
      <select
        {...common}
        value={current}
        onChange={(e) => {
          const raw = e.currentTarget.value;
          if (raw === '') ctx.edits.remove(path);
          else ctx.edits.set(path, JSON.parse(raw));
        }}
      >
        {(!required || value === undefined) && <option value="">{schema.default !== undefined ? `default (${String(schema.default)})` : '—'}</option>}
        {schema.enum.map((option) => (
          <option key={JSON.stringify(option)} value={JSON.stringify(option)}>
            {String(option)}
          </option>
        ))}
      </select>
    );
  } else if (type === 'number' || type === 'integer') {
    control = (
      <input
        type="number"
        {...common}
        step={type === 'integer' ? 1 : 'any'}
        min={schema.minimum}
        max={schema.maximum}
        placeholder={schema.default !== undefined ? String(schema.default) : undefined}
        value={typeof value === 'number' ? String(value) : ''}
        onInput={(e) => {
          const raw = e.currentTarget.value;
          if (raw === '') ctx.edits.remove(path);
          else if (Number.isFinite(Number(raw))) ctx.edits.set(path, Number(raw));
        }}
      />
    );
  } else {
    const secret = schema.format === 'password' || schema.writeOnly === true;
    const current = value === undefined || value === null ? '' : String(value);
    const onInput = (raw: string) => {
      // An optional setting left empty is left out, so the plugin's default applies.
      if (raw === '' && !required) ctx.edits.remove(path);
      else ctx.edits.set(path, raw);
    };
    control = current.includes('\n') ? (
      <textarea {...common} rows={Math.min(8, current.split('\n').length + 1)} value={current} onInput={(e) => onInput(e.currentTarget.value)} />
    ) : (
      <input
        type={secret ? 'password' : schema.format === 'uri' || schema.format === 'url' ? 'url' : schema.format === 'email' ? 'email' : 'text'}
        {...common}
        autocomplete={secret ? 'new-password' : 'off'}
        placeholder={schema.default !== undefined ? String(schema.default) : undefined}
        value={current}
        onInput={(e) => onInput(e.currentTarget.value)}
      />
    );
  }
  return (
    <div class={`field schema-field${type === 'boolean' ? ' checkbox' : ''}`} data-path={toPointer(path)}>
      {type === 'boolean' ? (
        <div class="checkbox-row">
          {control}
          <label for={id}>{text}</label>
          {after}
        </div>
      ) : (
        <>
          <label for={id}>
            {text}
            {required && <span class="required-mark" aria-hidden="true"> *</span>}
          </label>
          <div class="control-row">
            {control}
            {after}
          </div>
        </>
      )}
      {schema.description && (
        <p class="field-help" id={`${id}-help`}>
          {schema.description}
        </p>
      )}
      <FieldIssues id={id} issues={issues} />
    </div>
  );
}

function ArrayField({ ctx, schema, path, value, label }: FieldProps) {
  const id = fieldId(path);
  const items = Array.isArray(value) ? value : [];
  const itemSchema = resolve(schema.items as JsonSchema, ctx.root);
  const isObject = typeOf(itemSchema) === 'object';
  const name = label ?? labelOf(schema, path[path.length - 1] ?? '');
  const issues = issuesAt(ctx, path);
  const itemName = itemSchema.title ?? (name.endsWith('s') ? name.slice(0, -1) : name);
  return (
    <fieldset class="schema-array" data-path={toPointer(path)} aria-describedby={describedBy(id, schema, issues)}>
      <legend>{name}</legend>
      {schema.description && (
        <p class="field-help" id={`${id}-help`}>
          {schema.description}
        </p>
      )}
      <FieldIssues id={id} issues={issues} />
      {items.length === 0 && <p class="field-help">None yet.</p>}
      {items.map((item, index) => {
        const remove = (
          <button
            type="button"
            class="button small danger remove-item"
            disabled={ctx.disabled}
            aria-label={`Remove ${itemName} ${index + 1}`}
            onClick={() => ctx.edits.remove([...path, index])}
          >
            Remove
          </button>
        );
        return isObject ? (
          <ObjectField
            key={index}
            ctx={ctx}
            schema={itemSchema}
            path={[...path, index]}
            value={item}
            required={false}
            label={`${itemName} ${index + 1}`}
            after={remove}
          />
        ) : (
          <ScalarField
            key={index}
            ctx={ctx}
            schema={itemSchema}
            path={[...path, index]}
            value={item}
            required
            label={`${itemName} ${index + 1}`}
            after={remove}
          />
        );
      })}
      <button
        type="button"
        class="button small add-item"
        disabled={ctx.disabled}
        onClick={() => ctx.edits.append(path, newItem(itemSchema, ctx.root))}
      >
        Add {itemName.toLowerCase()}
      </button>
    </fieldset>
  );
}

function ObjectField({ ctx, schema, path, value, label, after }: FieldProps) {
  const id = fieldId(path);
  const object = value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  const issues = issuesAt(ctx, path);
  const body = (
    <>
      {Object.entries(schema.properties ?? {}).map(([key, prop]) => (
        <Field key={key} ctx={ctx} schema={prop} path={[...path, key]} value={object[key]} required={schema.required?.includes(key) ?? false} />
      ))}
    </>
  );
  // The whole document's own issues are listed by the configurer, above the form.
  if (path.length === 0) return body;
  return (
    <fieldset class="schema-object" data-path={toPointer(path)} aria-describedby={describedBy(id, schema, issues)}>
      <legend>{label ?? labelOf(schema, path[path.length - 1]!)}</legend>
      {after && <div class="fieldset-actions">{after}</div>}
      {schema.description && (
        <p class="field-help" id={`${id}-help`}>
          {schema.description}
        </p>
      )}
      <FieldIssues id={id} issues={issues} />
      {body}
    </fieldset>
  );
}

function Field(props: FieldProps) {
  const schema = resolve(props.schema, props.ctx.root);
  const merged = { ...props, schema };
  if (!editable(schema, props.ctx.root)) {
    const id = fieldId(props.path);
    const issues = issuesAt(props.ctx, props.path);
    return (
      <div class="field schema-field yaml-only" data-path={toPointer(props.path)}>
        <span class="field-label">{props.label ?? labelOf(schema, props.path[props.path.length - 1] ?? '')}</span>
        <p class="field-help">
          Edited in YAML{props.value !== undefined ? ':' : '.'} {props.value !== undefined && <code>{JSON.stringify(props.value)}</code>}
        </p>
        <FieldIssues id={id} issues={issues} />
      </div>
    );
  }
  const type = typeOf(schema);
  if (type === 'object') return <ObjectField {...merged} />;
  if (type === 'array') return <ArrayField {...merged} />;
  return <ScalarField {...merged} />;
}

interface SchemaFormProps {
  schema: JsonSchema;
  value: unknown;
  issues: ConfigIssue[];
  edits: FormEdits;
  disabled?: boolean;
}

/** A form generated from the plugin's JSON Schema; every change goes through `edits` to the YAML text. */
export function SchemaForm({ schema, value, issues, edits, disabled = false }: SchemaFormProps) {
  const ctx: Context = { root: schema, issues, edits, disabled };
  return (
    <div class="schema-form">
      <Field ctx={ctx} schema={schema} path={[]} value={value} required />
    </div>
  );
}
