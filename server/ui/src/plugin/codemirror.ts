import { yaml } from '@codemirror/lang-yaml';
import { EditorState } from '@codemirror/state';
import { EditorView, keymap } from '@codemirror/view';
import { basicSetup } from 'codemirror';
import { indentWithTab } from '@codemirror/commands';

/**
 * Creates the YAML editor. Kept in its own module so the page loads it lazily: CodeMirror is most of
 * the UI's code and only the plugin detail page needs it.
 */
export function createYamlEditor(parent: HTMLElement, text: string, onChange: (text: string) => void, label: string): EditorView {
  return new EditorView({
    parent,
    state: EditorState.create({
      doc: text,
      extensions: [
        basicSetup,
        keymap.of([indentWithTab]),
        yaml(),
        // Long lines wrap instead of scrolling sideways: on a phone the editor stays as wide as the screen.
        EditorView.lineWrapping,
        // `CodeMirror-code` (and `CodeMirror` on the wrapper) keep Gotify's UI-test selectors working.
        EditorView.contentAttributes.of({ 'aria-label': label, class: 'CodeMirror-code' }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) onChange(update.state.doc.toString());
        }),
      ],
    }),
  });
}

/** Replaces the whole text (after a reload), as one change so undo restores the edited text. */
export function setEditorText(view: EditorView, text: string): void {
  if (view.state.doc.toString() === text) return;
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
}
