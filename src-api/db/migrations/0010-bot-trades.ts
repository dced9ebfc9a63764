import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { ReportBody } from '../../../src-shared/bot-instance.ts';
import { ExchangeId } from '../../../src-shared/exchanges.ts';
import { deriveTrades, settlementOf, tradeIdOf, type HistoryEntry } from '../../modules/trades/derive.ts';
import type { SqlDialect } from '../dialect.ts';
import type { Database } from '../schema.ts';

/**
 * Trade history: one row per fill (`bot_trades`), written with the report that brought it, each with its place in
 * the account's change feed (`feed_seq`, from the account's counter row in `trade_feeds`, taken in the same
 * transaction so feed positions commit in order on PostgreSQL too). A bot's deletion leaves a tombstone in
 * `bot_trade_removals` with its own feed position, so a local copy learns to drop that bot's trades. Trades go
 * with their instance, as the history they come from does. Fills already reported are backfilled.
 */
export const botTrades = (_dialect: SqlDialect): Migration => ({
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('bot_trades')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('feed_seq', 'bigint', (c) => c.notNull())
      .addColumn('bot_id', 'text', (c) => c.notNull())
      .addColumn('bot_name', 'text', (c) => c.notNull())
      .addColumn('run_id', 'text', (c) => c.notNull())
      .addColumn('instance_id', 'text', (c) => c.notNull().references('bot_instances.id').onDelete('cascade'))
      // The fill's sequence in its instance's history (bot_history's key with instance_id).
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('time', 'bigint', (c) => c.notNull())
      .addColumn('exchange', 'text', (c) => c.notNull())
      .addColumn('symbol', 'text', (c) => c.notNull())
      .addColumn('testnet', 'integer', (c) => c.notNull())
      .addColumn('side', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('quantity', 'double precision', (c) => c.notNull())
      .addColumn('price', 'double precision', (c) => c.notNull())
      .addColumn('fee', 'double precision', (c) => c.notNull())
      .addColumn('currency', 'text', (c) => c.notNull())
      .addColumn('realized_pnl', 'double precision')
      .addColumn('client_order_id', 'text', (c) => c.notNull())
      // JSON: the decision that caused the fill (src-shared/trades.ts TradeDecision), null when none did.
      .addColumn('decision', 'text')
      .execute();
    await db.schema.createIndex('bot_trades_feed_idx').unique().on('bot_trades').columns(['user_id', 'feed_seq']).execute();
    // The Trades page's order (newest first) and its filters, each with the cursor's tie-breaker.
    await db.schema.createIndex('bot_trades_time_idx').on('bot_trades').columns(['user_id', 'time', 'feed_seq']).execute();
    await db.schema.createIndex('bot_trades_bot_idx').on('bot_trades').columns(['user_id', 'bot_id', 'time', 'feed_seq']).execute();
    await db.schema.createIndex('bot_trades_symbol_idx').on('bot_trades').columns(['user_id', 'symbol', 'time', 'feed_seq']).execute();
    await db.schema.createIndex('bot_trades_order_idx').on('bot_trades').columns(['run_id', 'client_order_id']).execute();
    // Deleting an instance (its bot) finds its trades without a scan.
    await db.schema.createIndex('bot_trades_instance_idx').on('bot_trades').columns(['instance_id', 'seq']).execute();

    await db.schema
      .createTable('trade_feeds')
      .addColumn('user_id', 'text', (c) => c.primaryKey())
      .addColumn('last_seq', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('bot_trade_removals')
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('feed_seq', 'bigint', (c) => c.notNull())
      .addColumn('bot_id', 'text', (c) => c.notNull())
      .addColumn('removed_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('bot_trade_removals_pk', ['user_id', 'feed_seq'])
      .execute();

    await backfill(db as unknown as Kysely<Database>);
  },
  async down(db: Kysely<unknown>) {
    for (const table of ['bot_trade_removals', 'trade_feeds', 'bot_trades']) await db.schema.dropTable(table).execute();
  },
});

/** Every fill already in bot_history becomes a trade; each account's feed numbers them by time. */
async function backfill(db: Kysely<Database>): Promise<void> {
  const instances = await db
    .selectFrom('bot_instances')
    .innerJoin('bots', 'bots.id', 'bot_instances.bot_id')
    .leftJoin('exchange_keys', 'exchange_keys.id', 'bots.key_record_id')
    .select(['bot_instances.id', 'bot_instances.bot_id', 'bot_instances.run_id', 'bots.user_id', 'bots.name', 'bots.config', 'exchange_keys.exchange'])
    .where((eb) => eb.exists(eb.selectFrom('bot_history').select('seq').whereRef('bot_history.instance_id', '=', 'bot_instances.id').where('kind', '=', 'fill')))
    .execute();
  const byUser = new Map<string, Omit<Database['bot_trades'], 'feed_seq'>[]>();
  for (const instance of instances) {
    const exchange = ExchangeId.safeParse(instance.exchange);
    const config = JSON.parse(instance.config) as { symbol?: unknown; testnet?: unknown };
    // A bot whose key is gone has no exchange to name: its fills stay in its history only.
    if (!exchange.success || typeof config.symbol !== 'string') continue;
    const rows = await db.selectFrom('bot_history').select(['seq', 'payload']).where('instance_id', '=', instance.id).where('kind', 'in', ['decision', 'order', 'fill']).orderBy('seq').execute();
    const entries: HistoryEntry[] = [];
    for (const row of rows) {
      const body = ReportBody.safeParse(JSON.parse(row.payload));
      if (body.success) entries.push({ seq: row.seq, body: body.data });
    }
    const trades = byUser.get(instance.user_id) ?? [];
    for (const trade of deriveTrades(entries)) {
      trades.push({
        id: tradeIdOf(instance.id, trade.seq),
        user_id: instance.user_id,
        bot_id: instance.bot_id,
        bot_name: instance.name,
        run_id: instance.run_id,
        instance_id: instance.id,
        seq: trade.seq,
        time: trade.time,
        exchange: exchange.data,
        symbol: config.symbol,
        testnet: config.testnet === true ? 1 : 0,
        side: trade.side,
        action: trade.action,
        quantity: trade.quantity,
        price: trade.price,
        fee: trade.fee,
        currency: settlementOf(config.symbol),
        realized_pnl: trade.realizedPnl,
        client_order_id: trade.clientOrderId,
        decision: trade.decision ? JSON.stringify(trade.decision) : null,
      });
    }
    byUser.set(instance.user_id, trades);
  }
  for (const [userId, trades] of byUser) {
    trades.sort((a, b) => a.time - b.time || a.id.localeCompare(b.id));
    const rows = trades.map((trade, i) => ({ ...trade, feed_seq: i + 1 }));
    for (let i = 0; i < rows.length; i += 200) await db.insertInto('bot_trades').values(rows.slice(i, i + 200)).execute();
    await db.insertInto('trade_feeds').values({ user_id: userId, last_seq: rows.length }).execute();
  }
}
