import { useEffect, useRef, useState } from 'preact/hooks';
import type { EditorView } from '@codemirror/view';

type CodeMirrorModule = typeof import('./codemirror');

interface ConfigEditorProps {
  /** The text to show; the editor is reset to it whenever it changes (load, reload, save). */
  text: string;
  /** Bumped to force a reset to `text` even when it did not change (Reload after local edits). */
  revision: number;
  onChange: (text: string) => void;
  label: string;
}

/** A CodeMirror 6 YAML editor (highlighting, line numbers, undo, search) wrapped for Preact. */
export function ConfigEditor({ text, revision, onChange, label }: ConfigEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const cm = useRef<CodeMirrorModule | null>(null);
  const changed = useRef(onChange);
  changed.current = onChange;
  // Texts the editor itself reported since the last outside change. Renders may run with an older
  // one of them (state updates from fast typing land one render apart): pushing it back into the
  // editor would undo the typing, and the two would then overwrite each other forever.
  const emitted = useRef(new Set<string>());
  const seenRevision = useRef(revision);
  const [loadError, setLoadError] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    import('./codemirror')
      .then((mod) => {
        if (cancelled || !host.current) return;
        cm.current = mod;
        view.current = mod.createYamlEditor(host.current, text, (t) => {
          emitted.current.add(t);
          // A stale render is at most a few edits behind: keep the recent ones only.
          if (emitted.current.size > 20) emitted.current.delete(emitted.current.values().next().value!);
          changed.current(t);
        }, label);
      })
      .catch((err: unknown) => setLoadError(`The editor could not be loaded: ${String(err)}`));
    return () => {
      cancelled = true;
      view.current?.destroy();
      view.current = null;
    };
  }, []);

  useEffect(() => {
    const forced = seenRevision.current !== revision;
    seenRevision.current = revision;
    if (!forced && emitted.current.has(text)) return;
    emitted.current.clear();
    if (view.current && cm.current) cm.current.setEditorText(view.current, text);
  }, [text, revision]);

  if (loadError) {
    return (
      <div class="error-box" role="alert">
        {loadError}
      </div>
    );
  }
  return <div class="config-editor CodeMirror" ref={host} />;
}
