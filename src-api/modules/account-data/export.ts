// The export: every row the account owns, read a page at a time and written out as it is read, so the
// API's memory stays flat however long the trade history. Two documents: one JSON with every table, and
// the fills as CSV for spreadsheets.
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { EXPORT_FORMAT, TRADE_CSV_COLUMNS } from '../../../src-shared/account-data.ts';
import type { Database } from '../../db/schema.ts';
import { EXPORTED_TABLES, ownedRule, type TableName } from './tables.ts';

type Db = Kysely<Database>;
type Row = Record<string, unknown>;

/** Rows per read: large enough that a million fills take few round trips, small enough to stay flat. */
const PAGE = 1000;

/** The rows of `table` that `userId` owns, in key order, a page at a time. */
async function* ownedRows(db: Db, table: TableName, userId: string, columns: readonly string[], also: RawBuilder<unknown> = sql`1 = 1`): AsyncGenerator<Row> {
  const rule = ownedRule(table);
  if (!rule) return;
  const key = rule.key.map((column) => sql.ref(column));
  let after: unknown[] | undefined;
  for (;;) {
    const past = after ? sql`and (${sql.join(key)}) > (${sql.join(after)})` : sql``;
    const selected = sql.join([...new Set([...columns, ...rule.key])].map((column) => sql.ref(column)));
    const { rows } = await sql<Row>`select ${selected} from ${sql.table(table)} where ${rule.owned(userId)} and ${also} ${past} order by ${sql.join(key)} limit ${PAGE}`.execute(db);
    for (const row of rows) yield row;
    if (rows.length < PAGE) return;
    const last = rows[rows.length - 1]!;
    after = rule.key.map((column) => last[column]);
  }
}

function shown(row: Row, columns: readonly string[], json: readonly string[]): Row {
  const out: Row = {};
  for (const column of columns) {
    const value = row[column];
    out[column] = json.includes(column) && typeof value === 'string' ? JSON.parse(value) : value;
  }
  return out;
}

/** The JSON document, in pieces: `{ format, exportedAt, tables: { users: [...], sessions: [...], ... } }`. */
export async function* exportDocument(db: Db, userId: string, exportedAt: string): AsyncGenerator<string> {
  yield `{"format":${JSON.stringify(EXPORT_FORMAT)},"exportedAt":${JSON.stringify(exportedAt)},"tables":{`;
  let firstTable = true;
  for (const table of EXPORTED_TABLES) {
    const rule = ownedRule(table);
    if (!rule || rule.exported === 'none') continue;
    yield `${firstTable ? '' : ','}${JSON.stringify(table)}:[`;
    firstTable = false;
    let first = true;
    let chunk = '';
    for await (const row of ownedRows(db, table, userId, rule.exported)) {
      chunk += (first ? '' : ',') + JSON.stringify(shown(row, rule.exported, rule.json ?? []));
      first = false;
      // Fewer, larger writes: a chunk per ~64 KiB rather than one per row.
      if (chunk.length >= 65_536) {
        yield chunk;
        chunk = '';
      }
    }
    yield `${chunk}]`;
  }
  yield '}}\n';
}

/** A CSV field: quoted when it holds a comma, quote or line break; a leading =, +, - or @ cannot become a formula. */
export function csvField(value: string | number): string {
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

const FillPayload = (payload: string): { clientOrderId: string; price: number; quantity: number; fee: number } =>
  JSON.parse(payload) as { clientOrderId: string; price: number; quantity: number; fee: number };

/** The account's fills as CSV (TRADE_CSV_COLUMNS), oldest first within each instance. */
export async function* tradesCsv(db: Db, userId: string): AsyncGenerator<string> {
  yield `${TRADE_CSV_COLUMNS.join(',')}\r\n`;
  const names = new Map<string, string>();
  for await (const bot of ownedRows(db, 'bots', userId, ['id', 'name'])) names.set(String(bot.id), String(bot.name));
  let chunk = '';
  for await (const row of ownedRows(db, 'bot_history', userId, ['bot_id', 'run_id', 'instance_id', 'seq', 'time', 'payload'], sql`kind = 'fill'`)) {
    const fill = FillPayload(String(row.payload));
    const botId = String(row.bot_id);
    const fields = [new Date(Number(row.time)).toISOString(), botId, names.get(botId) ?? '', String(row.run_id), String(row.instance_id), Number(row.seq), fill.clientOrderId, fill.price, fill.quantity, fill.fee];
    chunk += `${fields.map(csvField).join(',')}\r\n`;
    if (chunk.length >= 65_536) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}
