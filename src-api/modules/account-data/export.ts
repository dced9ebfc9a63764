// The export of everything an account owns: the JSON document of every table's rows and the CSV of its fills,
// produced a page at a time from the database. It runs in the export worker (export-worker.ts), never on the
// API's main thread, so what it allocates is bounded by the worker's own heap limits.
import type { Kysely } from 'kysely';
import { EXPORT_FORMAT, TRADE_CSV_COLUMNS } from '../../../src-shared/account-data.ts';
import type { TradeDecision } from '../../../src-shared/trades.ts';
import type { Database } from '../../db/schema.ts';
import * as q from './queries.ts';
import { EXPORTED_TABLES, ownedRule, type Row, type TableName } from './queries.ts';

type Db = Kysely<Database>;

/**
 * Rows per read. What is alive while an export runs is about one page, and what survives a young collection moves
 * to the old generation until a full one: small pages keep the export worker's capped heap far from its limit
 * (bench/export.bench.ts). Each read follows an index.
 */
const PAGE = 100;

// Both hand on whole pages: one write per page, and nothing kept from one page to the next.

/** The account's trade history, instance by instance, a page at a time along the primary key. */
async function* historyPages(db: Db, userId: string, columns: readonly string[]): AsyncGenerator<Row[]> {
  for (const instanceId of await q.instancesOf(db, userId)) {
    let afterSeq = 0;
    for (;;) {
      const rows = await q.historyPage(db, instanceId, { columns, afterSeq, limit: PAGE });
      if (rows.length > 0) yield rows;
      if (rows.length < PAGE) break;
      afterSeq = Number(rows[rows.length - 1]!.seq);
    }
  }
}

/** The rows of `table` that `userId` owns, in key order, a page at a time. */
async function* ownedPages(db: Db, table: TableName, userId: string, columns: readonly string[]): AsyncGenerator<Row[]> {
  if (table === 'bot_history') {
    yield* historyPages(db, userId, columns);
    return;
  }
  const rule = ownedRule(table);
  if (!rule) return;
  let after: unknown[] | undefined;
  for (;;) {
    const rows = await q.ownedPage(db, table, userId, { columns, after, limit: PAGE });
    if (rows.length > 0) yield rows;
    if (rows.length < PAGE) return;
    const last = rows[rows.length - 1]!;
    after = rule.key.map((column) => last[column]);
  }
}

/**
 * A row as JSON text. Columns holding JSON are spliced in as stored (the API wrote each with JSON.stringify):
 * parsing a million payloads only to write them out again made most of the export's garbage.
 */
function shownAsJson(row: Row, columns: readonly string[], json: readonly string[]): string {
  const fields = columns.map((column) => {
    const value = row[column] ?? null;
    return `${JSON.stringify(column)}:${json.includes(column) && typeof value === 'string' ? value : JSON.stringify(value)}`;
  });
  return `{${fields.join(',')}}`;
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
    const { exported, json = [] } = rule;
    let first = true;
    for await (const page of ownedPages(db, table, userId, exported)) {
      // One write per page rather than one per row.
      const rows = page.map((row) => shownAsJson(row, exported, json)).join(',');
      yield first ? rows : `,${rows}`;
      first = false;
    }
    yield ']';
  }
  yield '}}\n';
}

/** A CSV field: quoted when it holds a comma, quote or line break; a leading =, +, - or @ cannot become a formula. */
export function csvField(value: string | number): string {
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The account's trades as CSV (TRADE_CSV_COLUMNS), one fill a line, in the order the API stored them. */
export async function* tradesCsv(db: Db, userId: string): AsyncGenerator<string> {
  yield `${TRADE_CSV_COLUMNS.join(',')}\r\n`;
  const columns = ['id', 'time', 'bot_id', 'bot_name', 'run_id', 'exchange', 'symbol', 'testnet', 'side', 'action', 'client_order_id', 'quantity', 'price', 'fee', 'currency', 'realized_pnl', 'decision'];
  for await (const page of ownedPages(db, 'bot_trades', userId, columns)) {
    let lines = '';
    for (const row of page) {
      // Written by the intake from a checked report: parsing is enough.
      const decision = row.decision === null ? null : (JSON.parse(String(row.decision)) as TradeDecision);
      const fields = [
        new Date(Number(row.time)).toISOString(), String(row.bot_id), String(row.bot_name), String(row.run_id), String(row.id), String(row.exchange),
        String(row.symbol), Number(row.testnet) ? 'true' : 'false', String(row.side), String(row.action), String(row.client_order_id),
        Number(row.quantity), Number(row.price), Number(row.fee), String(row.currency), row.realized_pnl === null ? '' : Number(row.realized_pnl),
        decision ? `${decision.type} ${decision.side}` : '', decision?.reason ?? '',
      ];
      lines += `${fields.map(csvField).join(',')}\r\n`;
    }
    if (lines) yield lines;
  }
}
