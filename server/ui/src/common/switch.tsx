interface SwitchProps {
  checked: boolean;
  label: string;
  disabled?: boolean;
  onChange: (checked: boolean) => void;
}

/**
 * An on/off switch. It is a real `<button role="switch">` so keyboards and screen readers handle it, and it
 * carries `data-enabled` like Gotify's MUI switch, which browser tests read.
 */
export function Switch({ checked, label, disabled, onChange }: SwitchProps) {
  return (
    <button
      type="button"
      role="switch"
      class="switch"
      aria-checked={checked}
      aria-label={label}
      title={label}
      data-enabled={String(checked)}
      disabled={disabled}
      onClick={() => onChange(!checked)}
    >
      <span class="switch-thumb" />
    </button>
  );
}
