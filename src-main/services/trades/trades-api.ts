import { TradeChanges, TradeDetail } from '../../../src-shared/trades.ts';
import { ApiHttp, type ApiHttpOptions } from '../api-http.ts';

/** The trades routes of the plutarc API the desktop's local copy uses, each answer parsed. */
export class TradesApi {
  private readonly http: ApiHttp;

  constructor(http: ApiHttp | ApiHttpOptions) {
    this.http = ApiHttp.from(http);
  }

  /** The account's change feed after `since` (a feed position), oldest first. */
  changes(token: string, since: number, limit: number) {
    const params = new URLSearchParams({ since: String(since), limit: String(limit) });
    return this.http.call('GET', `/v1/trades/changes?${params.toString()}`, TradeChanges, { token });
  }

  detail(token: string, id: string) {
    return this.http.call('GET', `/v1/trades/${encodeURIComponent(id)}`, TradeDetail, { token });
  }
}
