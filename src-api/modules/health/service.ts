import type { Health } from '../../../src-shared/http.ts';
import { iso, type Clock } from '../../../src-server/clock.ts';
import { ProblemError } from '../../../src-server/problem.ts';
import { pingDatabase, type DatabaseHandle } from '../../db/database.ts';

/** The API is healthy when its database answers. */
export async function apiHealth(database: DatabaseHandle, version: string, now: Clock): Promise<Health> {
  try {
    await pingDatabase(database);
  } catch {
    throw new ProblemError(503, 'database_unavailable', 'Database unavailable', 'The API cannot reach its database right now.');
  }
  return { status: 'ok', version, database: database.dialect, time: iso(now()) };
}
