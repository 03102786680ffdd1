import { Cron } from 'croner';

/** When a schedule fires next, strictly after `after`; undefined when it never does again. */
export type NextRun = (schedule: string, after: Date) => Date | undefined;

/**
 * Kubernetes CronJob semantics: 5 fields (minute hour day-of-month month day-of-week) or a nickname
 * (`@daily`), UTC, day-of-month and day-of-week ORed when both are restricted.
 */
function parse(schedule: string): Cron {
  return new Cron(schedule, { mode: '5-part', timezone: 'UTC', domAndDow: false });
}

export const cronNextRun: NextRun = (schedule, after) => parse(schedule).nextRun(after) ?? undefined;

/** Why a user's schedule is refused, or undefined when it is fine. */
export function validateSchedule(schedule: string): string | undefined {
  if (typeof schedule !== 'string' || !schedule.trim()) return 'empty';
  if (!schedule.trim().startsWith('@') && schedule.trim().split(/\s+/).length !== 5)
    return `${JSON.stringify(schedule)} must have 5 fields: minute hour day-of-month month day-of-week (UTC)`;
  try {
    if (!parse(schedule).nextRun()) return `${JSON.stringify(schedule)} never matches a future time`;
  } catch (err) {
    return `${JSON.stringify(schedule)} is not a valid cron schedule (${(err as Error).message.replace(/^CronPattern: /, '')})`;
  }
  return undefined;
}
