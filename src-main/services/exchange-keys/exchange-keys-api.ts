import {
  DeletedExchangeKey,
  ExchangeKeyList,
  ExchangeKeyView,
  FingerprintKeyResponse,
  SealingKeyReservation,
  type CreateExchangeKeyRequest,
} from '../../../src-shared/exchange-keys.ts';
import type { ExchangeId } from '../../../src-shared/exchanges.ts';
import { ApiHttp, type ApiHttpOptions } from '../api-http.ts';

/** Creating a key waits on the broker too: a little more time than the default. */
const CREATE_TIMEOUT_MS = 15_000;

/** The exchange-key routes of the plutarc API, each answer parsed. Requests carry a sealed key at most, never a secret. */
export class ExchangeKeysApi {
  private readonly http: ApiHttp;

  constructor(http: ApiHttp | ApiHttpOptions) {
    this.http = ApiHttp.from(http);
  }

  async list(token: string) {
    return (await this.http.call('GET', '/v1/exchange-keys', ExchangeKeyList, { token })).keys;
  }

  async fingerprintKey(token: string) {
    return (await this.http.call('GET', '/v1/exchange-keys/fingerprint-key', FingerprintKeyResponse, { token })).key;
  }

  reserveSealingKey(token: string, exchange: ExchangeId, fingerprint: string) {
    return this.http.call('POST', '/v1/exchange-keys/sealing-keys', SealingKeyReservation, { token, body: { exchange, fingerprint } });
  }

  create(token: string, body: CreateExchangeKeyRequest) {
    return this.http.call('POST', '/v1/exchange-keys', ExchangeKeyView, { token, body, timeoutMs: CREATE_TIMEOUT_MS });
  }

  rename(token: string, id: string, label: string) {
    return this.http.call('PATCH', `/v1/exchange-keys/${encodeURIComponent(id)}`, ExchangeKeyView, { token, body: { label } });
  }

  setActive(token: string, id: string, active: boolean) {
    return this.http.call('PUT', `/v1/exchange-keys/${encodeURIComponent(id)}/active`, ExchangeKeyView, { token, body: { active } });
  }

  remove(token: string, id: string) {
    return this.http.call('DELETE', `/v1/exchange-keys/${encodeURIComponent(id)}`, DeletedExchangeKey, { token });
  }
}
