// Templates over HTTP: what the API's `templates` routes take and answer. The document itself is
// `TemplateBody` (templates.ts); here it gains an id, an owner kind and a version.
import { z } from 'zod';
import { TemplateBody } from './templates.ts';

/** System templates have readable ids (`system-trend-following`); a user's have UUIDs. */
export const TemplateId = z.string().max(64).regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'not a template id');
export type TemplateId = z.infer<typeof TemplateId>;

export const TemplateVersion = z.number().int().min(1).max(1_000_000);

/** system: read-only, the same for everyone; user: the caller's own, versioned. */
export const TemplateKind = z.enum(['system', 'user']);
export type TemplateKind = z.infer<typeof TemplateKind>;

/** One line of the list: enough to show and pick a template without its components. */
export const TemplateSummary = z.object({
  id: TemplateId,
  kind: TemplateKind,
  name: z.string(),
  description: z.string(),
  latestVersion: TemplateVersion,
  /** The template this one was duplicated from, if any (system or own). */
  duplicatedFrom: z.object({ id: TemplateId, version: TemplateVersion, name: z.string() }).nullable(),
  updatedAt: z.iso.datetime().nullable(),
});
export type TemplateSummary = z.infer<typeof TemplateSummary>;

export const TemplateList = z.object({ templates: z.array(TemplateSummary) });
export type TemplateList = z.infer<typeof TemplateList>;

/** One version of a template, whole. A version, once saved, never changes. */
export const TemplateView = TemplateSummary.extend({
  version: TemplateVersion,
  body: TemplateBody,
  /** When this version was saved; null for system templates. */
  savedAt: z.iso.datetime().nullable(),
});
export type TemplateView = z.infer<typeof TemplateView>;

export const TemplateVersionInfo = z.object({ version: TemplateVersion, name: z.string(), savedAt: z.iso.datetime().nullable() });
export type TemplateVersionInfo = z.infer<typeof TemplateVersionInfo>;
export const TemplateVersionList = z.object({ versions: z.array(TemplateVersionInfo) });

export const TemplateParams = z.object({ id: TemplateId });
export const TemplateQuery = z.object({ version: z.coerce.number().pipe(TemplateVersion).optional() }).strict();

export const CreateTemplateRequest = z.strictObject({ template: TemplateBody });
export type CreateTemplateRequest = z.infer<typeof CreateTemplateRequest>;

export const DuplicateTemplateRequest = z.strictObject({
  /** The version to copy; the latest when absent. */
  version: TemplateVersion.optional(),
  /** The copy's name; "<name> (copy)" when absent. */
  name: z.string().trim().min(1).max(80).optional(),
});
export type DuplicateTemplateRequest = z.infer<typeof DuplicateTemplateRequest>;

export const SaveTemplateRequest = z.strictObject({
  /** The version the edit started from: a save on top of a newer one is refused, not silently merged. */
  baseVersion: TemplateVersion,
  template: TemplateBody,
});
export type SaveTemplateRequest = z.infer<typeof SaveTemplateRequest>;

export const DeletedTemplate = z.object({ id: TemplateId });
export type DeletedTemplate = z.infer<typeof DeletedTemplate>;
