// The templates routes on a real API (a SQLite file, or a PostgreSQL schema where one is given; 127.0.0.1:0): system templates for everyone, a
// user's own versioned templates, a version never changed once saved, deletion refused while a bot runs
// the template, bad parameters refused with the field they are in, and one account's templates invisible
// and untouchable from another, route by route.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_TEMPLATES } from '../../../src-engine/system-templates.ts';
import type { TemplateSummary, TemplateView } from '../../../src-shared/templates-api.ts';
import type { TemplateBody } from '../../../src-shared/templates.ts';
import { startTestApi, type TestApi } from '../../support/api.ts';
import { PG_URL, postgresSchema } from '../../support/databases.ts';
import { call } from '../../support/http.ts';
import { registerUser } from '../../support/identity.ts';

const DATABASES = PG_URL ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const);

describe.each(DATABASES)('templates on %s', (database) => {
  let api: TestApi;
  /** What the test says the bots table holds: template id -> bots running it. */
  const running = new Map<string, { botId: string; version: number }[]>();
  let alice: string;
  let bob: string;

  let dropSchema = async () => {};

  beforeAll(async () => {
    let env: Record<string, string> = {};
    if (database === 'postgres') {
      const schema = await postgresSchema(PG_URL!);
      env = { PLUTARC_DATABASE_URL: schema.url };
      dropSchema = schema.drop;
    }
    api = await startTestApi(env, () => {}, { templateUsage: { botsUsing: async (_db, _userId, templateId) => running.get(templateId) ?? [] } });
    expect(api.app.database.dialect).toBe(database);
    alice = (await registerUser(api.url)).token;
    bob = (await registerUser(api.url)).token;
  });
  afterAll(async () => {
    await api.close();
    await dropSchema();
  });

  const trend = SYSTEM_TEMPLATES.find((t) => t.id === 'system-trend-following')!;
  const duplicate = async (token: string, id = trend.id, body: object = {}) => {
    const answer = await call<TemplateView>(api.url, 'POST', `/v1/templates/${id}/duplicate`, { token, body });
    expect(answer.status).toBe(201);
    return answer.body;
  };
  /** The trend template with the fast EMA changed: a real edit a trader makes. */
  const withFastEma = (body: TemplateBody, fast: number): TemplateBody => ({
    ...body,
    components: body.components.map((c) => (c.kind === 'emaCross' ? { ...c, params: { ...c.params, fast } } : c)),
  });
  const storedVersions = (id: string) =>
    api.app.database.db.selectFrom('template_versions').select(['version', 'body']).where('template_id', '=', id).orderBy('version').execute();

  describe('system templates', () => {
    it('lists the eight system templates, each with a description, before any of the user’s', async () => {
      const answer = await call<{ templates: TemplateSummary[] }>(api.url, 'GET', '/v1/templates', { token: alice });
      expect(answer.status).toBe(200);
      expect(answer.body.templates.map((t) => [t.id, t.kind])).toEqual(SYSTEM_TEMPLATES.map((t) => [t.id, 'system']));
      for (const t of answer.body.templates) expect(t.description.length).toBeGreaterThan(40);
    });

    it('gets a system template whole, and refuses to change or delete it', async () => {
      const got = await call<TemplateView>(api.url, 'GET', `/v1/templates/${trend.id}`, { token: alice });
      expect(got.body.body).toEqual(trend.template);
      const save = await call(api.url, 'PUT', `/v1/templates/${trend.id}`, { token: alice, body: { baseVersion: 1, template: withFastEma(trend.template, 10) } });
      expect([save.status, save.body.code]).toEqual([403, 'template_read_only']);
      const remove = await call(api.url, 'DELETE', `/v1/templates/${trend.id}`, { token: alice });
      expect([remove.status, remove.body.code]).toEqual([403, 'template_read_only']);
      const again = await call<TemplateView>(api.url, 'GET', `/v1/templates/${trend.id}`, { token: bob });
      expect(again.body.body).toEqual(trend.template);
    });
  });

  describe('a user’s own templates', () => {
    it('duplicating a system template makes version 1 of a new template that says where it came from', async () => {
      const copy = await duplicate(alice);
      expect(copy).toMatchObject({ kind: 'user', version: 1, latestVersion: 1, name: 'Trend following (copy)', duplicatedFrom: { id: trend.id, version: 1 } });
      expect(copy.body).toEqual({ ...trend.template, name: 'Trend following (copy)' });
      const listed = await call<{ templates: TemplateSummary[] }>(api.url, 'GET', '/v1/templates', { token: alice });
      expect(listed.body.templates.filter((t) => t.kind === 'user').map((t) => t.id)).toContain(copy.id);
    });

    it('saving makes the next version and leaves the saved one byte for byte as it was', async () => {
      const copy = await duplicate(alice, trend.id, { name: 'Faster trend' });
      const [before] = await storedVersions(copy.id);
      const saved = await call<TemplateView>(api.url, 'PUT', `/v1/templates/${copy.id}`, { token: alice, body: { baseVersion: 1, template: withFastEma(copy.body, 10) } });
      expect(saved.status).toBe(200);
      expect([saved.body.version, saved.body.latestVersion]).toEqual([2, 2]);
      expect(saved.body.body.components.find((c) => c.kind === 'emaCross')?.params).toEqual({ fast: 10, slow: 50 });

      const stored = await storedVersions(copy.id);
      expect(stored.map((v) => v.version)).toEqual([1, 2]);
      expect(stored[0]).toEqual(before);
      const first = await call<TemplateView>(api.url, 'GET', `/v1/templates/${copy.id}?version=1`, { token: alice });
      expect(first.body.body.components.find((c) => c.kind === 'emaCross')?.params).toEqual({ fast: 20, slow: 50 });
      const versions = await call<{ versions: { version: number }[] }>(api.url, 'GET', `/v1/templates/${copy.id}/versions`, { token: alice });
      expect(versions.body.versions.map((v) => v.version)).toEqual([2, 1]);
      const missing = await call(api.url, 'GET', `/v1/templates/${copy.id}?version=9`, { token: alice });
      expect([missing.status, missing.body.code]).toEqual([404, 'template_version_not_found']);
    });

    it('a save on top of an older version is refused, and nothing is written', async () => {
      const copy = await duplicate(alice);
      await call(api.url, 'PUT', `/v1/templates/${copy.id}`, { token: alice, body: { baseVersion: 1, template: withFastEma(copy.body, 10) } });
      const stale = await call(api.url, 'PUT', `/v1/templates/${copy.id}`, { token: alice, body: { baseVersion: 1, template: withFastEma(copy.body, 5) } });
      expect([stale.status, stale.body.code]).toEqual([409, 'template_changed']);
      expect((await storedVersions(copy.id)).map((v) => v.version)).toEqual([1, 2]);
    });

    it('two saves from the same version at once: one wins, the other is refused', async () => {
      const copy = await duplicate(alice);
      const answers = await Promise.all(
        [10, 5].map((fast) => call(api.url, 'PUT', `/v1/templates/${copy.id}`, { token: alice, body: { baseVersion: 1, template: withFastEma(copy.body, fast) } })),
      );
      expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
      expect((await storedVersions(copy.id)).map((v) => v.version)).toEqual([1, 2]);
    });

    it('duplicates one of the user’s own templates at an older version', async () => {
      const copy = await duplicate(alice);
      await call(api.url, 'PUT', `/v1/templates/${copy.id}`, { token: alice, body: { baseVersion: 1, template: withFastEma(copy.body, 10) } });
      const again = await duplicate(alice, copy.id, { version: 1, name: 'Back to 20' });
      expect(again.duplicatedFrom).toEqual({ id: copy.id, version: 1, name: copy.name });
      expect(again.body.components.find((c) => c.kind === 'emaCross')?.params).toEqual({ fast: 20, slow: 50 });
    });

    it('creates a template from a whole document', async () => {
      const created = await call<TemplateView>(api.url, 'POST', '/v1/templates', { token: alice, body: { template: { ...trend.template, name: 'Mine from scratch' } } });
      expect(created.status).toBe(201);
      expect([created.body.kind, created.body.version, created.body.duplicatedFrom]).toEqual(['user', 1, null]);
    });
  });

  describe('bad templates are refused with the field at fault', () => {
    const refused = async (template: unknown) => {
      const copy = await duplicate(alice);
      const answer = await call(api.url, 'PUT', `/v1/templates/${copy.id}`, { token: alice, body: { baseVersion: 1, template } });
      expect(answer.status).toBe(400);
      expect(answer.headers.get('content-type')).toContain('application/problem+json');
      expect(answer.body.code).toBe('invalid_request');
      expect((await storedVersions(copy.id)).length).toBe(1);
      return answer.body.errors ?? [];
    };

    it('a fast EMA not shorter than the slow one', async () => {
      const errors = await refused(withFastEma(trend.template, 60));
      expect(errors).toContainEqual({ path: 'body.template.components.0.params.fast', message: 'the fast EMA must be shorter than the slow one' });
    });

    it('a period out of range', async () => {
      const errors = await refused(withFastEma(trend.template, 1));
      expect(errors.map((e) => e.path)).toContain('body.template.components.0.params.fast');
    });

    it('a parameter the component does not have', async () => {
      const template = { ...trend.template, components: trend.template.components.map((c) => (c.kind === 'stopLoss' ? { ...c, params: { percent: 3, trailing: true } } : c)) };
      const errors = await refused(template);
      expect(errors.some((e) => e.path.startsWith('body.template.components.3.params'))).toBe(true);
    });

    it('a template without an exit rule', async () => {
      const errors = await refused({ ...trend.template, components: trend.template.components.filter((c) => c.role !== 'exitRule') });
      expect(errors).toContainEqual({ path: 'body.template.components', message: 'a template needs at least one exit rule' });
    });
  });

  describe('deleting', () => {
    it('is refused while a bot runs the template, whatever its version, and allowed once none does', async () => {
      const copy = await duplicate(alice);
      running.set(copy.id, [{ botId: 'bot-1', version: 1 }]);
      const refused = await call(api.url, 'DELETE', `/v1/templates/${copy.id}`, { token: alice });
      expect([refused.status, refused.body.code]).toEqual([409, 'template_in_use']);
      expect(refused.body.detail).toContain('version 1');
      expect((await storedVersions(copy.id)).length).toBe(1);

      running.delete(copy.id);
      const removed = await call(api.url, 'DELETE', `/v1/templates/${copy.id}`, { token: alice });
      expect([removed.status, removed.body]).toEqual([200, { id: copy.id }]);
      expect(await storedVersions(copy.id)).toEqual([]);
      const gone = await call(api.url, 'GET', `/v1/templates/${copy.id}`, { token: alice });
      expect([gone.status, gone.body.code]).toEqual([404, 'template_not_found']);
    });
  });

  describe('account deletion', () => {
    it('takes the account’s templates and every version with it', async () => {
      const carol = await registerUser(api.url);
      const copy = await duplicate(carol.token);
      await call(api.url, 'PUT', `/v1/templates/${copy.id}`, { token: carol.token, body: { baseVersion: 1, template: withFastEma(copy.body, 10) } });
      expect((await storedVersions(copy.id)).length).toBe(2);
      await api.app.database.db.deleteFrom('users').where('id', '=', carol.user.id).execute();
      expect(await api.app.database.db.selectFrom('templates').select('id').where('id', '=', copy.id).execute()).toEqual([]);
      expect(await storedVersions(copy.id)).toEqual([]);
    });
  });

  describe('user A and user B’s templates', () => {
    let bobs: TemplateView;
    beforeAll(async () => {
      bobs = await duplicate(bob, trend.id, { name: 'Bob’s trend' });
    });
    const unchanged = async () => {
      const own = await call<TemplateView>(api.url, 'GET', `/v1/templates/${bobs.id}`, { token: bob });
      expect(own.body).toEqual(bobs);
      expect((await storedVersions(bobs.id)).length).toBe(1);
    };
    /** B's id must answer A exactly as an id that names nothing. */
    const asIfMissing = async (method: string, path: (id: string) => string, body?: object) => {
      const answer = await call(api.url, method, path(bobs.id), { token: alice, ...(body ? { body } : {}) });
      const missing = await call(api.url, method, path('00000000-0000-4000-8000-000000000000'), { token: alice, ...(body ? { body } : {}) });
      expect([answer.status, answer.body.code]).toEqual([404, 'template_not_found']);
      expect(answer.body).toEqual({ ...missing.body, instance: answer.body.instance });
      await unchanged();
    };

    it('list: A sees none of B’s', async () => {
      const answer = await call<{ templates: TemplateSummary[] }>(api.url, 'GET', '/v1/templates', { token: alice });
      expect(answer.body.templates.map((t) => t.id)).not.toContain(bobs.id);
    });
    it('get: 404', () => asIfMissing('GET', (id) => `/v1/templates/${id}`));
    it('get a version: 404', () => asIfMissing('GET', (id) => `/v1/templates/${id}?version=1`));
    it('versions: 404', () => asIfMissing('GET', (id) => `/v1/templates/${id}/versions`));
    it('duplicate: 404, and A gets no copy', async () => {
      const before = (await call<{ templates: TemplateSummary[] }>(api.url, 'GET', '/v1/templates', { token: alice })).body.templates.length;
      await asIfMissing('POST', (id) => `/v1/templates/${id}/duplicate`, {});
      expect((await call<{ templates: TemplateSummary[] }>(api.url, 'GET', '/v1/templates', { token: alice })).body.templates.length).toBe(before);
    });
    it('save: 404', () => asIfMissing('PUT', (id) => `/v1/templates/${id}`, { baseVersion: 1, template: withFastEma(trend.template, 10) }));
    it('delete: 404', () => asIfMissing('DELETE', (id) => `/v1/templates/${id}`));

    it('every route needs a session', async () => {
      for (const [method, path, body] of [
        ['GET', '/v1/templates'],
        ['GET', `/v1/templates/${bobs.id}`],
        ['GET', `/v1/templates/${bobs.id}/versions`],
        ['POST', '/v1/templates', { template: trend.template }],
        ['POST', `/v1/templates/${bobs.id}/duplicate`, {}],
        ['PUT', `/v1/templates/${bobs.id}`, { baseVersion: 1, template: trend.template }],
        ['DELETE', `/v1/templates/${bobs.id}`],
      ] as const) {
        const answer = await call(api.url, method, path, body ? { body } : {});
        expect([method, path, answer.status]).toEqual([method, path, 401]);
      }
      await unchanged();
    });
  });
});
