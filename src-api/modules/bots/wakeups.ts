// PostgreSQL: hears that another replica moved the desired state (LISTEN on a connection of its own) and wakes
// this replica's long polls. Reconnects when the connection drops, and then wakes them all, since
// notifications sent meanwhile are gone. Nothing to do on SQLite, where there is one process.
import type pg from 'pg';
import type { DatabaseHandle } from '../../db/database.ts';
import { DESIRED_CHANNEL, LISTEN_TO_DESIRED } from './queries.ts';

const RETRY_MS = { first: 500, max: 30_000 };

export function listenForDesiredMoves(database: DatabaseHandle, moved: () => void, warn: (message: string) => void): { stop(): void } {
  if (database.driver.kind !== 'postgres') return { stop() {} };
  const pool = database.driver.pool;
  let stopped = false;
  let client: pg.PoolClient | null = null;
  let retry: NodeJS.Timeout | undefined;
  let delay = RETRY_MS.first;
  const onNotification = (message: pg.Notification) => {
    if (message.channel === DESIRED_CHANNEL) moved();
  };
  const lost = (connection: pg.PoolClient, reason: string) => {
    if (client !== connection) return;
    connection.off('notification', onNotification);
    connection.release(true);
    client = null;
    if (stopped) return;
    warn(`bots: lost the LISTEN connection (${reason}); retrying in ${Math.round(delay / 1000)} s`);
    retry = setTimeout(() => void connect(), delay);
    delay = Math.min(delay * 2, RETRY_MS.max);
  };
  const connect = async () => {
    let connection: pg.PoolClient | null = null;
    try {
      connection = await pool.connect();
      if (stopped) {
        connection.release();
        return;
      }
      client = connection;
      const current = connection;
      current.on('notification', onNotification);
      current.on('error', (error) => lost(current, error.message));
      current.once('end', () => lost(current, 'the server closed it'));
      await current.query(LISTEN_TO_DESIRED);
      delay = RETRY_MS.first;
      moved();
    } catch (error) {
      const reason = error instanceof Error ? error.message : 'unknown error';
      if (connection && client === connection) lost(connection, reason);
      else if (!stopped) {
        warn(`bots: could not LISTEN (${reason}); retrying in ${Math.round(delay / 1000)} s`);
        retry = setTimeout(() => void connect(), delay);
        delay = Math.min(delay * 2, RETRY_MS.max);
      }
    }
  };
  void connect();
  return {
    stop() {
      stopped = true;
      clearTimeout(retry);
      if (client) {
        client.off('notification', onNotification);
        client.release(true);
        client = null;
      }
    },
  };
}
