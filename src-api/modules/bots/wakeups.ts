// PostgreSQL: hears that another replica moved the desired state and wakes this replica's long polls (all of
// them after a reconnect, since notifications sent meanwhile are gone). Nothing to do on SQLite.
import type { DatabaseHandle } from '../../db/database.ts';
import { listenWithReconnect, type Listening } from '../../db/listen.ts';
import { DESIRED_CHANNEL, LISTEN_TO_DESIRED } from './queries.ts';

export function listenForDesiredMoves(database: DatabaseHandle, moved: () => void, warn: (message: string) => void): Listening {
  return listenWithReconnect(database, {
    name: 'bots',
    listen: LISTEN_TO_DESIRED,
    onNotification: (message) => {
      if (message.channel === DESIRED_CHANNEL) moved();
    },
    onListening: moved,
    warn,
  });
}
