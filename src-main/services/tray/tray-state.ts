// What the tray shows, kept current: bot summaries, unread alerts, the connection and the login setting
// come in as they change; the tray is redrawn from the whole model at most once per 250 ms.
import type { BotSummary } from '../../../src-shared/bots.ts';
import type { Clock } from '../ports.ts';
import { Coalescer } from './coalescer.ts';
import { trayModel, type ApiConnection, type StartAtLogin, type TrayModel } from './tray-model.ts';

/** Linux rebuilds the whole menu on every change, and a rebuild costs the OS far more than a state change. */
export const TRAY_REBUILD_INTERVAL_MS = 250;

export class TrayState {
  private readonly bots = new Map<string, BotSummary>();
  private connection: ApiConnection = 'signed-out';
  private unreadAlerts = 0;
  private startAtLogin: StartAtLogin;
  private readonly redraw: Coalescer;

  private readonly render: (model: TrayModel) => void;

  constructor(clock: Clock, render: (model: TrayModel) => void, startAtLogin: StartAtLogin) {
    this.render = render;
    this.startAtLogin = startAtLogin;
    this.redraw = new Coalescer(clock, TRAY_REBUILD_INTERVAL_MS, () => this.render(this.model()));
    this.redraw.request();
  }

  model(): TrayModel {
    return trayModel({
      connection: this.connection,
      bots: [...this.bots.values()],
      unreadAlerts: this.unreadAlerts,
      startAtLogin: this.startAtLogin,
    });
  }

  /** The whole list, as the API's bots list answers it. */
  setBots(bots: readonly BotSummary[]): void {
    this.bots.clear();
    for (const bot of bots) this.bots.set(bot.id, bot);
    this.redraw.request();
  }

  /** One bot changed (or is new). */
  updateBot(bot: BotSummary): void {
    this.bots.set(bot.id, bot);
    this.redraw.request();
  }

  removeBot(botId: string): void {
    if (this.bots.delete(botId)) this.redraw.request();
  }

  setConnection(connection: ApiConnection): void {
    this.connection = connection;
    // Signed out, the tray knows no bots: the next account must not see this one's.
    if (connection === 'signed-out') this.bots.clear();
    this.redraw.request();
  }

  setUnreadAlerts(count: number): void {
    this.unreadAlerts = Math.max(0, Math.trunc(count));
    this.redraw.request();
  }

  setStartAtLogin(startAtLogin: StartAtLogin): void {
    this.startAtLogin = startAtLogin;
    this.redraw.request();
  }

  dispose(): void {
    this.redraw.dispose();
  }
}
