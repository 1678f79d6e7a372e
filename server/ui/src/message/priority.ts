/**
 * Gotify's priorities mapped to four levels, as its Android app maps them to notification importance:
 * 0–3 low (silent), 4–7 normal, 8–9 high; 10 and above is critical.
 */
export type PriorityLevel = 'low' | 'normal' | 'high' | 'critical';

export function priorityLevel(priority: number): PriorityLevel {
  if (priority >= 10) return 'critical';
  if (priority >= 8) return 'high';
  if (priority >= 4) return 'normal';
  return 'low';
}
