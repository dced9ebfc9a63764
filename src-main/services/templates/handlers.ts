import { PREVIEW_CANDLES, type templatesInvokeContract } from '../../../src-shared/ipc-templates.ts';
import type { Handlers } from '../dispatch.ts';
import type { TemplatesService } from './templates-service.ts';

export type TemplatesHandlers = Pick<Handlers, keyof typeof templatesInvokeContract>;

export function templatesHandlers(templates: TemplatesService): TemplatesHandlers {
  return {
    'templates.list': () => templates.list(),
    'templates.get': (input) => templates.get(input.id, input.version),
    'templates.versions': (input) => templates.versions(input.id),
    'templates.create': (input) => templates.create(input.template),
    'templates.duplicate': ({ id, ...request }) => templates.duplicate(id, request),
    'templates.save': (input) => templates.save(input.id, input.baseVersion, input.template),
    'templates.remove': (input) => templates.remove(input.id),
    'templates.preview': (input) => templates.preview({ ...input, candles: input.candles ?? PREVIEW_CANDLES.default }),
    'backtests.run': (input) => templates.runBacktest(input),
    'backtests.pickCandleFile': () => templates.pickCandleFile(),
    'backtests.cancel': (input) => templates.cancelBacktest(input.runId),
    'backtests.list': () => templates.listBacktests(),
    'backtests.get': (input) => templates.backtest(input.id),
  };
}
