import { z } from 'zod';
import { BotDetail, BotHistoryPage, BotList, type BotSettings } from '../../../src-shared/bots.ts';
import type { RegionId } from '../../../src-shared/regions.ts';
import { ApiHttp, type ApiHttpOptions } from '../api-http.ts';

const at = (id: string) => `/v1/bots/${encodeURIComponent(id)}`;

/** What a delete answers: nothing the app needs (the bot is gone either way). */
const Anything = z.unknown();

/** The bots routes of the plutarc API (user sessions), each answer parsed. */
export class BotsApi {
  private readonly http: ApiHttp;

  constructor(http: ApiHttp | ApiHttpOptions) {
    this.http = ApiHttp.from(http);
  }

  async list(token: string) {
    return (await this.http.call('GET', '/v1/bots', BotList, { token })).bots;
  }

  get(token: string, id: string) {
    return this.http.call('GET', at(id), BotDetail, { token });
  }

  create(token: string, settings: BotSettings) {
    return this.http.call('POST', '/v1/bots', BotDetail, { token, body: settings });
  }

  update(token: string, id: string, changes: Partial<BotSettings>) {
    return this.http.call('PATCH', at(id), BotDetail, { token, body: changes });
  }

  async remove(token: string, id: string): Promise<void> {
    await this.http.call('DELETE', at(id), Anything, { token });
  }

  deploy(token: string, id: string, region: RegionId) {
    return this.http.call('POST', `${at(id)}/deploy`, BotDetail, { token, body: { region } });
  }

  /** Pause, resume or stop: the desired state the orchestrator converges to. */
  act(token: string, id: string, action: 'pause' | 'resume' | 'stop') {
    return this.http.call('POST', `${at(id)}/${action}`, BotDetail, { token });
  }

  history(token: string, id: string, query: { kind?: string | undefined; before?: string | undefined; limit: number }) {
    const params = new URLSearchParams({ limit: String(query.limit) });
    if (query.kind) params.set('kind', query.kind);
    if (query.before) params.set('before', query.before);
    return this.http.call('GET', `${at(id)}/history?${params.toString()}`, BotHistoryPage, { token });
  }
}
