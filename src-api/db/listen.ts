// PostgreSQL LISTEN on a connection of its own, kept alive: when the connection drops it reconnects with a
// doubling delay, and says so once listening again, since notifications sent meanwhile are gone. Nothing to
// do on SQLite, where one process holds the database.
import type pg from 'pg';
import type { DatabaseHandle } from './database.ts';

const RETRY_MS = { first: 500, max: 30_000 };

export interface ListenOptions {
  /** Who listens, for the warnings ("account events", "bots"). */
  name: string;
  /** The LISTEN statement(s), from the module's queries. */
  listen: string;
  onNotification(message: pg.Notification): void;
  /** Listening (again): whatever was announced while nobody listened must be caught up on now. */
  onListening(): void;
  warn(message: string): void;
}

export interface Listening {
  stop(): void;
}

export function listenWithReconnect(database: DatabaseHandle, options: ListenOptions): Listening {
  if (database.driver.kind !== 'postgres') return { stop() {} };
  const pool = database.driver.pool;
  let stopped = false;
  let client: pg.PoolClient | null = null;
  let retry: NodeJS.Timeout | undefined;
  let delay = RETRY_MS.first;
  const onNotification = (message: pg.Notification) => options.onNotification(message);
  const retryLater = (why: string) => {
    options.warn(`${options.name}: ${why}; retrying in ${Math.round(delay / 1000)} s`);
    retry = setTimeout(() => void connect(), delay);
    delay = Math.min(delay * 2, RETRY_MS.max);
  };
  // Only the connection in use counts: a late 'end' from one already let go must not drop its successor.
  const lost = (connection: pg.PoolClient, reason: string) => {
    if (client !== connection) return;
    connection.off('notification', onNotification);
    connection.release(true);
    client = null;
    if (!stopped) retryLater(`lost the LISTEN connection (${reason})`);
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
      // Kept for the connection's whole life: an 'error' with no listener would take the process down.
      current.on('error', (error) => lost(current, error.message));
      current.once('end', () => lost(current, 'the server closed it'));
      await current.query(options.listen);
      delay = RETRY_MS.first;
      options.onListening();
    } catch (error) {
      const reason = error instanceof Error ? error.message : 'unknown error';
      if (connection && client === connection) lost(connection, reason);
      else if (!stopped) retryLater(`could not LISTEN (${reason})`);
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
