import { PERMISSIONS, type PluginPermission } from './permissions';

interface PermissionSelectProps {
  id: string;
  pluginName: string;
  value: PluginPermission;
  disabled?: boolean;
  onChange: (value: PluginPermission) => void;
}

/** Who may use the plugin: a native select, labelled with the plugin's name for screen readers. */
export function PermissionSelect({ id, pluginName, value, disabled, onChange }: PermissionSelectProps) {
  return (
    <select
      id={id}
      class="permission-select"
      aria-label={`Who may use ${pluginName}`}
      value={value}
      disabled={disabled}
      onChange={(e) => onChange(e.currentTarget.value as PluginPermission)}
    >
      {PERMISSIONS.map((p) => (
        <option key={p.value} value={p.value}>
          {p.label}
        </option>
      ))}
    </select>
  );
}
