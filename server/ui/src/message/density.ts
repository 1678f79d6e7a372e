import { Store } from '../common/store';

export type Density = 'comfortable' | 'compact';

const KEY = 'flow-message-density';

function stored(): Density {
  try {
    return localStorage.getItem(KEY) === 'compact' ? 'compact' : 'comfortable';
  } catch {
    return 'comfortable';
  }
}

/** How tightly messages are listed; remembered in this browser. */
export const density = new Store<Density>(stored());

export function setDensity(value: Density): void {
  try {
    localStorage.setItem(KEY, value);
  } catch {
    // Not remembered, but applied for this visit.
  }
  density.set(value);
}
