import { useState } from 'preact/hooks';
import { apiUrl } from '../common/base-url';
import type { Application } from '../common/types';

/**
 * The application's image as the server serves it (`image/<file>` after an upload, `static/defaultapp.png`
 * otherwise), or its initial when there is none or it fails to load.
 */
export function AppAvatar({ app, name }: { app: Application | undefined; name: string }) {
  const [failed, setFailed] = useState(false);
  if (app?.image && !failed) {
    return <img class="avatar" src={apiUrl(app.image)} alt="" width={40} height={40} onError={() => setFailed(true)} />;
  }
  return (
    <div class="avatar" aria-hidden="true">
      {name.slice(0, 1).toUpperCase()}
    </div>
  );
}
