import { request } from '../common/api';
import { Store } from '../common/store';
import type { Application } from '../common/types';

/** The user's applications: the messages sidebar and the Applications page both read them. */
export const applications = new Store<Application[]>([]);

export async function loadApplications(): Promise<Application[]> {
  const list = await request<Application[]>('GET', 'application');
  applications.set(list);
  return list;
}

/** How long an application's messages are kept (`null`: no limit). Servers without retention omit it. */
export interface Retention {
  maxCount: number | null;
  maxAgeSeconds: number | null;
}

export interface ApplicationInput {
  name: string;
  description: string;
  defaultPriority: number;
  retention?: Retention;
}

/** The application's retention, when the server has the feature (the field is present). */
export function retentionOf(app: Application): Retention | undefined {
  const value = (app as Application & { retention?: Partial<Retention> }).retention;
  if (!value || typeof value !== 'object') return undefined;
  return { maxCount: value.maxCount ?? null, maxAgeSeconds: value.maxAgeSeconds ?? null };
}

export async function createApplication(input: ApplicationInput): Promise<void> {
  await request('POST', 'application', { json: input });
  await loadApplications();
}

export async function updateApplication(id: number, input: ApplicationInput): Promise<void> {
  await request('PUT', `application/${id}`, { json: input });
  await loadApplications();
}

export async function deleteApplication(id: number): Promise<void> {
  await request('DELETE', `application/${id}`);
  await loadApplications();
}

/** Uploads a new image (png, jpeg or gif) for an application, as Gotify's form field `file`. */
export async function uploadApplicationImage(id: number, file: File): Promise<void> {
  const form = new FormData();
  form.append('file', file, file.name);
  await request('POST', `application/${id}/image`, { form });
  await loadApplications();
}

/** Back to the default image (and the generated avatar in the UI). */
export async function removeApplicationImage(id: number): Promise<void> {
  await request('DELETE', `application/${id}/image`);
  await loadApplications();
}
