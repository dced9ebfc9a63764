import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { UAParser } from 'ua-parser-js';
import type { DeviceInfo, SessionView } from '../../../src-shared/identity.ts';
import type { Kysely } from 'kysely';
import { addSeconds, iso, type Clock } from '../../../src-server/clock.ts';
import type { DatabaseHandle } from '../../db/database.ts';
import type { Database, SessionsTable } from '../../db/schema.ts';
import * as q from './queries.ts';

/** Server-enforced lifetimes: a desktop keeps its session a week unused, a month at most; a web page an hour, a day. */
export const SESSION_LIFETIMES = {
  desktop: { idleSeconds: 7 * 24 * 3600, absoluteSeconds: 30 * 24 * 3600 },
  web: { idleSeconds: 3600, absoluteSeconds: 24 * 3600 },
} as const;
export type SessionLifetimes = Record<SessionsTable['kind'], { idleSeconds: number; absoluteSeconds: number }>;
/** last_seen_at is written at most this often (or twice per idle period, when that is shorter). */
const TOUCH_EVERY_MS = 60_000;

export type SessionRow = SessionsTable;

export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');
const newToken = (): string => randomBytes(32).toString('base64url');

/** What the sessions page shows for a device: the app's own words, or the browser and OS from the user agent. */
export function deviceLabel(device: DeviceInfo, userAgent: string | undefined): string {
  if (device.client === 'desktop') {
    return ['plutarc desktop', device.appVersion, device.os ? `on ${device.os}` : undefined].filter(Boolean).join(' ');
  }
  const ua = new UAParser(userAgent ?? '').getResult();
  const browser = [ua.browser.name, ua.browser.major].filter(Boolean).join(' ');
  const os = [ua.os.name, ua.os.version].filter(Boolean).join(' ');
  return browser || os ? `${browser || 'Browser'}${os ? ` on ${os}` : ''}` : 'Web browser';
}

/** When the session ends unless used again: the earlier of its idle and absolute expiry. */
export const sessionExpiresAt = (row: SessionRow): string => (row.expires_at < row.idle_expires_at ? row.expires_at : row.idle_expires_at);

export function sessionView(row: SessionRow, currentId: string | null): SessionView {
  return {
    id: row.id,
    kind: row.kind,
    method: row.method,
    deviceLabel: row.device_label,
    firstIp: row.first_ip,
    lastIp: row.last_ip,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    expiresAt: sessionExpiresAt(row),
    current: row.id === currentId,
  };
}

export type SessionCheck = { ok: true; session: SessionRow } | { ok: false; reason: 'unknown' | 'revoked' | 'expired' };

export class SessionStore {
  private readonly database: DatabaseHandle;
  private readonly now: Clock;
  private readonly lifetimes: SessionLifetimes;

  constructor(database: DatabaseHandle, now: Clock, lifetimes: SessionLifetimes = SESSION_LIFETIMES) {
    this.database = database;
    this.now = now;
    this.lifetimes = lifetimes;
  }

  async create(
    input: { userId: string; method: SessionRow['method']; device: DeviceInfo; userAgent: string | undefined; ip: string },
    db: Kysely<Database> = this.database.db,
  ) {
    const now = this.now();
    const lifetime = this.lifetimes[input.device.client];
    const token = newToken();
    const row: SessionRow = {
      id: randomUUID(),
      user_id: input.userId,
      token_hash: hashToken(token),
      kind: input.device.client,
      method: input.method,
      device_label: deviceLabel(input.device, input.userAgent),
      first_ip: input.ip,
      last_ip: input.ip,
      created_at: iso(now),
      last_seen_at: iso(now),
      idle_expires_at: iso(addSeconds(now, lifetime.idleSeconds)),
      expires_at: iso(addSeconds(now, lifetime.absoluteSeconds)),
      reverified_at: null,
      revoked_at: null,
    };
    await q.insertSession(db, row);
    return { token, session: row };
  }

  /** Finds the live session for a token and records that it was used (at most once a minute). */
  async authenticate(token: string, ip: string): Promise<SessionCheck> {
    const row = await q.sessionByTokenHash(this.database.db, hashToken(token));
    if (!row) return { ok: false, reason: 'unknown' };
    if (row.revoked_at) return { ok: false, reason: 'revoked' };
    const now = this.now();
    const nowIso = iso(now);
    if (row.expires_at <= nowIso || row.idle_expires_at <= nowIso) return { ok: false, reason: 'expired' };
    const lifetime = this.lifetimes[row.kind];
    const touchEveryMs = Math.min(TOUCH_EVERY_MS, (lifetime.idleSeconds * 1000) / 2);
    if (now.getTime() - Date.parse(row.last_seen_at) >= touchEveryMs || row.last_ip !== ip) {
      const touched = { last_seen_at: nowIso, last_ip: ip, idle_expires_at: iso(addSeconds(now, lifetime.idleSeconds)) };
      await q.touchSession(this.database.db, row.id, touched);
      Object.assign(row, touched);
    }
    return { ok: true, session: row };
  }

  /** A new token for the same session (after reverification): the old one stops working at once. */
  async rotate(sessionId: string, changes: Partial<Pick<SessionRow, 'reverified_at'>> = {}): Promise<string> {
    const token = newToken();
    await q.rotateSessionToken(this.database.db, sessionId, { token_hash: hashToken(token), ...changes });
    return token;
  }

  listLive(userId: string): Promise<SessionRow[]> {
    return q.liveSessions(this.database.db, userId, iso(this.now()));
  }

  /** Revokes the user's live sessions matching `which`; returns the ids revoked. Never another user's. */
  revoke(userId: string, which: q.SessionsToRevoke): Promise<string[]> {
    return q.revokeSessions(this.database.db, userId, which, iso(this.now()));
  }
}
