import { useState } from 'preact/hooks';
import { apiUrl } from '../common/base-url';
import type { Application } from '../common/types';
import { avatarColor, initials } from './generated-avatar';

/** The image the server serves for an application that has none uploaded (Gotify's `static/defaultapp.png`). */
export function hasOwnImage(app: Application | undefined): app is Application {
  return !!app?.image && !app.image.startsWith('static/');
}

interface AppAvatarProps {
  app: Application | undefined;
  /** The name to draw the initials from when there is no image (the app may be unknown yet). */
  name: string;
  /** `small` in the sidebar, `medium` in tables, normal in messages. */
  size?: 'small' | 'medium';
}

/**
 * The application's uploaded image, or a generated avatar (initials on a colour from the name) when it has
 * none or the image fails to load. The initials are drawn by CSS from `data-initials`, so they are not part
 * of the text next to the avatar (a link's name stays the application's name).
 */
export function AppAvatar({ app, name, size }: AppAvatarProps) {
  const [failed, setFailed] = useState<string | null>(null);
  const sizeClass = size ? ` avatar-${size}` : '';
  if (hasOwnImage(app) && failed !== app.image) {
    return (
      <img
        class={`avatar${sizeClass}`}
        src={apiUrl(app.image)}
        alt=""
        width={40}
        height={40}
        onError={() => setFailed(app.image)}
      />
    );
  }
  return (
    <span
      class={`avatar generated${sizeClass}`}
      aria-hidden="true"
      data-initials={initials(name)}
      style={{ background: avatarColor(name) }}
    />
  );
}
