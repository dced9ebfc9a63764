import {
  DeletedTemplate,
  TemplateList,
  TemplateVersionList,
  TemplateView,
  type DuplicateTemplateRequest,
} from '../../../src-shared/templates-api.ts';
import type { TemplateBody } from '../../../src-shared/templates.ts';
import { ApiHttp, type ApiHttpOptions } from '../api-http.ts';

const at = (id: string) => `/v1/templates/${encodeURIComponent(id)}`;

/** The templates routes of the plutarc API, each answer parsed. */
export class TemplatesApi {
  private readonly http: ApiHttp;

  constructor(http: ApiHttp | ApiHttpOptions) {
    this.http = ApiHttp.from(http);
  }

  async list(token: string) {
    return (await this.http.call('GET', '/v1/templates', TemplateList, { token })).templates;
  }

  get(token: string, id: string, version?: number) {
    return this.http.call('GET', version === undefined ? at(id) : `${at(id)}?version=${version}`, TemplateView, { token });
  }

  async versions(token: string, id: string) {
    return (await this.http.call('GET', `${at(id)}/versions`, TemplateVersionList, { token })).versions;
  }

  create(token: string, template: TemplateBody) {
    return this.http.call('POST', '/v1/templates', TemplateView, { token, body: { template } });
  }

  duplicate(token: string, id: string, request: DuplicateTemplateRequest) {
    return this.http.call('POST', `${at(id)}/duplicate`, TemplateView, { token, body: request });
  }

  save(token: string, id: string, baseVersion: number, template: TemplateBody) {
    return this.http.call('PUT', at(id), TemplateView, { token, body: { baseVersion, template } });
  }

  remove(token: string, id: string) {
    return this.http.call('DELETE', at(id), DeletedTemplate, { token });
  }
}
