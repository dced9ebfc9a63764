// One module layout in the API (CONVENTIONS.md, "Modules that own their routes"): each module is a folder
// whose index.ts is its Fastify plugin, whose logic is in service.ts, and whose SQL is in queries.ts only.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../support/build.ts';

const MODULES = join(ROOT, 'src-api/modules');
const modules = readdirSync(MODULES, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
const filesOf = (module: string) => readdirSync(join(MODULES, module)).filter((f) => f.endsWith('.ts'));
const source = (module: string, file: string) => readFileSync(join(MODULES, module, file), 'utf8');
/** Kysely's query builders and raw SQL: what only a queries.ts may hold. */
const QUERY = /\.(selectFrom|insertInto|updateTable|deleteFrom)\(|\bsql`/;

describe('the API modules', () => {
  it('are the ones the map names', () => {
    expect(modules).toEqual(expect.arrayContaining(['events', 'exchange-keys', 'exchanges', 'health', 'hosted-pages', 'identity', 'regions']));
  });

  it.each(modules)('%s has an index.ts plugin and a service.ts', (module) => {
    expect(filesOf(module)).toEqual(expect.arrayContaining(['index.ts', 'service.ts']));
    expect(source(module, 'index.ts')).toMatch(/export const \w+Module\b/);
  });

  it.each(modules)('%s keeps its SQL in queries.ts, never in a route handler or a service', (module) => {
    const offenders = filesOf(module).filter((file) => file !== 'queries.ts' && QUERY.test(source(module, file)));
    expect(offenders).toEqual([]);
  });

  it('would see SQL where it does not belong', () => {
    expect(QUERY.test("await db.selectFrom('sessions').selectAll()")).toBe(true);
    expect(QUERY.test('await sql`select 1`.execute(db)')).toBe(true);
    expect(QUERY.test('await q.sessionById(db, id)')).toBe(false);
  });
});
