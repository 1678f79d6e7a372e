import { Fragment } from 'preact';

/**
 * A path or URL that may break after each `/` (a `<wbr>`), so that on a narrow screen it wraps between its
 * parts instead of in the middle of a name. The text content stays the same.
 */
export function PathText({ text }: { text: string }) {
  const parts = text.split(/(?<=\/)/);
  return (
    <>
      {parts.map((part, i) => (
        <Fragment key={i}>
          {part}
          {i < parts.length - 1 && <wbr />}
        </Fragment>
      ))}
    </>
  );
}
