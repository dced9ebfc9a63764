// Strategy templates on the API: the eight system templates (read-only, from the engine) and each
// user's own, versioned. Saving inserts the next version; no saved version is ever changed, because a
// bot or a backtest names the version it ran.
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { SYSTEM_TEMPLATES, systemTemplate, type SystemTemplate } from '../../../src-engine/system-templates.ts';
import type {
  DeletedTemplate,
  DuplicateTemplateRequest,
  SaveTemplateRequest,
  TemplateSummary,
  TemplateVersionInfo,
  TemplateView,
} from '../../../src-shared/templates-api.ts';
import { TemplateBody } from '../../../src-shared/templates.ts';
import { recordAudit } from '../../db/audit.ts';
import type { DatabaseHandle } from '../../db/database.ts';
import type { Database } from '../../db/schema.ts';
import type { Clock } from '../../../src-server/clock.ts';
import { ProblemError } from '../../../src-server/problem.ts';
import * as q from './queries.ts';

/**
 * Which of a user's bots run a template, and on which version. Deleting is refused while any does.
 * Bots arrive with the bot issue: their module supplies this as a query on its bots table, run inside
 * the delete's transaction (and its table should reference template_versions, so the database refuses
 * the delete too).
 */
export interface TemplateUsage {
  botsUsing(db: Kysely<Database>, userId: string, templateId: string): Promise<{ botId: string; version: number }[]>;
}

/** Until bots exist, nothing uses a template. */
export const noBotsYet: TemplateUsage = { botsUsing: async () => [] };

export interface TemplatesDeps {
  database: DatabaseHandle;
  usage: TemplateUsage;
  now: Clock;
}

/** One account's own templates, at most; versions are kept (a bot may run any of them). */
export const MAX_TEMPLATES_PER_USER = 500;

const notFound = () => new ProblemError(404, 'template_not_found', 'No such template', 'That template is not on your account.');
const versionNotFound = (version: number) => new ProblemError(404, 'template_version_not_found', 'No such version', `That template has no version ${version}.`);
const readOnly = () =>
  new ProblemError(403, 'template_read_only', 'System template', 'System templates cannot be changed or deleted. Duplicate it and edit the copy.');

function systemView(system: SystemTemplate): TemplateView {
  return {
    id: system.id,
    kind: 'system',
    name: system.template.name,
    description: system.template.description,
    latestVersion: 1,
    version: 1,
    duplicatedFrom: null,
    updatedAt: null,
    savedAt: null,
    body: system.template,
  };
}

function userView(row: q.TemplateWithVersion): TemplateView {
  return {
    id: row.id,
    kind: 'user',
    name: row.name,
    description: row.description,
    latestVersion: row.latest_version,
    version: row.version,
    duplicatedFrom:
      row.source_id !== null && row.source_version !== null ? { id: row.source_id, version: row.source_version, name: row.source_name ?? '' } : null,
    updatedAt: row.updated_at,
    savedAt: row.saved_at,
    // Stored only after validation; parsing again keeps a hand-edited row from reaching a client unchecked.
    body: TemplateBody.parse(JSON.parse(row.body)),
  };
}

const summaryOf = ({ body: _body, version: _version, savedAt: _savedAt, ...summary }: TemplateView): TemplateSummary => summary;

export class Templates {
  private readonly deps: TemplatesDeps;

  constructor(deps: TemplatesDeps) {
    this.deps = deps;
  }

  private get db() {
    return this.deps.database.db;
  }

  /** The system templates first, then the user's own, each at its latest version. */
  async list(userId: string): Promise<TemplateSummary[]> {
    const own = await q.listLatest(this.db, userId);
    return [...SYSTEM_TEMPLATES.map((s) => summaryOf(systemView(s))), ...own.map((row) => summaryOf(userView(row)))];
  }

  async get(userId: string, id: string, version?: number): Promise<TemplateView> {
    const system = systemTemplate(id);
    if (system) {
      if (version !== undefined && version !== 1) throw versionNotFound(version);
      return systemView(system);
    }
    const row = await q.findVersion(this.db, userId, id, version);
    if (row) return userView(row);
    if (version !== undefined && (await q.findTemplate(this.db, userId, id))) throw versionNotFound(version);
    throw notFound();
  }

  async versions(userId: string, id: string): Promise<TemplateVersionInfo[]> {
    const system = systemTemplate(id);
    if (system) return [{ version: 1, name: system.template.name, savedAt: null }];
    if (!(await q.findTemplate(this.db, userId, id))) throw notFound();
    return (await q.listVersions(this.db, id)).map((v) => ({ version: v.version, name: v.name, savedAt: v.saved_at }));
  }

  async create(userId: string, body: TemplateBody, source: TemplateView | null = null): Promise<TemplateView> {
    const at = this.deps.now().toISOString();
    const id = randomUUID();
    await this.db.transaction().execute(async (trx) => {
      if ((await q.countTemplates(trx, userId)) >= MAX_TEMPLATES_PER_USER) {
        throw new ProblemError(409, 'too_many_templates', 'Too many templates', `An account keeps at most ${MAX_TEMPLATES_PER_USER} templates. Delete some you no longer use.`);
      }
      await q.insertTemplate(trx, {
        id,
        user_id: userId,
        latest_version: 1,
        source_id: source?.id ?? null,
        source_version: source?.version ?? null,
        source_name: source?.name ?? null,
        created_at: at,
        updated_at: at,
      });
      await q.insertVersion(trx, { template_id: id, version: 1, name: body.name, description: body.description, body: JSON.stringify(body), saved_at: at });
    });
    return this.get(userId, id, 1);
  }

  /** A copy of a system template or of one of the user's own (any version), as a new template at version 1. */
  async duplicate(userId: string, id: string, request: DuplicateTemplateRequest): Promise<TemplateView> {
    const source = await this.get(userId, id, request.version);
    const name = request.name ?? `${source.name} (copy)`.slice(0, 80);
    return this.create(userId, { ...source.body, name }, source);
  }

  /** Saves an edit as the next version; refused when someone saved on top of `baseVersion` first. */
  async save(userId: string, id: string, request: SaveTemplateRequest): Promise<TemplateView> {
    if (systemTemplate(id)) throw readOnly();
    const at = this.deps.now().toISOString();
    const version = await this.db.transaction().execute(async (trx) => {
      const row = await q.findTemplate(trx, userId, id);
      if (!row) throw notFound();
      if (!(await q.advanceLatest(trx, userId, id, request.baseVersion, at))) {
        throw new ProblemError(
          409,
          'template_changed',
          'Saved elsewhere',
          `This template is at version ${row.latest_version} now, not ${request.baseVersion}: it was saved from somewhere else. Reload it and apply your change again.`,
        );
      }
      const next = request.baseVersion + 1;
      const body = request.template;
      await q.insertVersion(trx, { template_id: id, version: next, name: body.name, description: body.description, body: JSON.stringify(body), saved_at: at });
      return next;
    });
    return this.get(userId, id, version);
  }

  /** Deletes a template and all its versions, unless a bot runs one of them. */
  async remove(userId: string, id: string): Promise<DeletedTemplate> {
    if (systemTemplate(id)) throw readOnly();
    await this.db.transaction().execute(async (trx) => {
      if (!(await q.findTemplate(trx, userId, id))) throw notFound();
      const bots = await this.deps.usage.botsUsing(trx, userId, id);
      if (bots.length > 0) {
        throw new ProblemError(
          409,
          'template_in_use',
          'Template in use',
          `${bots.length === 1 ? 'A bot runs' : `${bots.length} bots run`} this template (version ${[...new Set(bots.map((b) => b.version))].sort((a, b) => a - b).join(', ')}). Stop ${bots.length === 1 ? 'it' : 'them'} or move ${bots.length === 1 ? 'it' : 'them'} to another template first.`,
        );
      }
      await q.deleteTemplate(trx, userId, id);
    });
    await recordAudit(this.deps.database, { actor: userId, action: 'template.deleted', subject: id }, this.deps.now());
    return { id };
  }
}
