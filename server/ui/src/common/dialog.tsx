import type { ComponentChildren } from 'preact';
import { useLayoutEffect, useRef } from 'preact/hooks';

interface DialogProps {
  title: string;
  id?: string;
  class?: string;
  onClose: () => void;
  children: ComponentChildren;
}

/**
 * A modal built on the native `<dialog>`: the browser gives it focus trapping, Escape to close and
 * an inert background, which a hand-made overlay would have to imitate.
 */
export function Dialog({ title, id, class: className, onClose, children }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  // A layout effect: the dialog is open (and its first field focused) before the browser paints, so keys
  // typed right after the click that opened it land in the dialog, not on the page behind it.
  useLayoutEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      id={id}
      class={`dialog ${className ?? ''}`}
      aria-labelledby="dialog-title"
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      <h2 id="dialog-title" class="dialog-title">
        {title}
      </h2>
      {children}
    </dialog>
  );
}
