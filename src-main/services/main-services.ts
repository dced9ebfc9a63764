import { ApiClient } from './api-client.ts';
import { ApiStatusMonitor, systemClock, type Clock } from './api-status.ts';
import type { Handlers } from './dispatch.ts';
import { EventHub } from './event-hub.ts';
import { RegionsService } from './regions-service.ts';

export interface MainServicesOptions {
  apiUrl: string;
  host: 'electron' | 'browser';
  version: string;
  platform?: string;
  clock?: Clock;
}

/** Everything main does for the renderer, wired once and shared by the Electron app and the browser host. */
export interface MainServices {
  handlers: Handlers;
  events: EventHub;
  start(): void;
  stop(): void;
}

export function createMainServices(options: MainServicesOptions): MainServices {
  const platform = options.platform ?? process.platform;
  const events = new EventHub();
  const api = new ApiClient({
    baseUrl: options.apiUrl,
    userAgent: `plutarc-desktop/${options.version} (${platform}; ${options.host})`,
  });
  const status = new ApiStatusMonitor(api, events, options.clock ?? systemClock);
  const regions = new RegionsService(api);

  const handlers: Handlers = {
    'app.info': () => ({ version: options.version, host: options.host, apiUrl: options.apiUrl, platform }),
    'api.status': () => status.current(),
    'regions.list': () => regions.list(),
  };

  return {
    handlers,
    events,
    start: () => status.start(),
    stop: () => status.stop(),
  };
}
