// "Your data" in main: the export, saved where the user picks (Electron) or handed to the page as
// single-use download links that main streams from the API (browser host), and the account's deletion.
// The session token never leaves main: the page gets files or links, never the token.
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ACCOUNT_DATA_ROUTES, DeletionAccepted, type DeletionRequest } from '../../../src-shared/account-data.ts';
import { Me } from '../../../src-shared/identity.ts';
import type { ExportOutcome } from '../../../src-shared/ipc-account-data.ts';
import type { ApiHttp } from '../api-http.ts';
import { ServiceError } from '../errors.ts';
import type { Clock, FileSaver, SessionAccess } from '../ports.ts';

/** How long a download link handed to the page stays good: it is used at once. */
const DOWNLOAD_LINK_MS = 60_000;

interface ExportFile {
  route: string;
  name: string;
  contentType: string;
}

export interface Download {
  name: string;
  contentType: string;
  body: Readable;
}

export interface AccountDataServiceOptions {
  http: ApiHttp;
  session: SessionAccess;
  /** Signs this device out (after the account's deletion was accepted). */
  signOut(): Promise<unknown>;
  clock: Clock;
  /** The OS's save dialog (Electron). Without one (the browser host), the page downloads the files itself. */
  fileSaver?: FileSaver;
}

export class AccountDataService {
  readonly #options: AccountDataServiceOptions;
  readonly #links = new Map<string, { file: ExportFile; expiresAt: number }>();

  constructor(options: AccountDataServiceOptions) {
    this.#options = options;
  }

  /** The export: asks for reverification first, so no dialog opens and no link is made for a session that may not export. */
  async export(): Promise<ExportOutcome> {
    await this.#requireReverified();
    const day = this.#options.clock.now().toISOString().slice(0, 10);
    const files: ExportFile[] = [
      { route: ACCOUNT_DATA_ROUTES.export, name: `plutarc-export-${day}.json`, contentType: 'application/json; charset=utf-8' },
      { route: ACCOUNT_DATA_ROUTES.trades, name: `plutarc-trades-${day}.csv`, contentType: 'text/csv; charset=utf-8' },
    ];
    const saver = this.#options.fileSaver;
    if (!saver) {
      this.#dropExpiredLinks();
      return {
        state: 'download',
        files: files.map((file) => {
          const token = randomBytes(32).toString('base64url');
          this.#links.set(token, { file, expiresAt: this.#options.clock.now().getTime() + DOWNLOAD_LINK_MS });
          return { url: `/downloads/${token}`, name: file.name };
        }),
      };
    }
    const chosen = await saver({ title: 'Save your plutarc data', defaultName: files[0]!.name, kinds: [{ name: 'JSON', extensions: ['json'] }] });
    if (!chosen) return { state: 'cancelled' };
    // The trades go beside the document, named after it.
    const trades = join(dirname(chosen), `${basename(chosen, extname(chosen))}-trades.csv`);
    const targets = [chosen, trades];
    for (const [index, file] of files.entries()) await this.#save(file, targets[index]!);
    return { state: 'saved', files: targets };
  }

  /** Streams one export file to `path`: written beside it first, so a failed export never leaves half a file. */
  async #save(file: ExportFile, path: string): Promise<void> {
    const partial = `${path}.partial`;
    try {
      const body = await this.#options.session.withSession((token) => this.#options.http.stream(file.route, { token, accept: file.contentType }));
      await pipeline(body, createWriteStream(partial, { mode: 0o600 }));
      await rename(partial, path);
    } catch (error) {
      await rm(partial, { force: true });
      if (error instanceof ServiceError) throw error;
      throw new ServiceError('export_not_saved', `Your data could not be saved to ${path}: ${error instanceof Error ? error.message : 'unknown error'}.`);
    }
  }

  /** The browser host's download of a link `export` handed out; once only. */
  async download(token: string): Promise<Download> {
    this.#dropExpiredLinks();
    const link = this.#links.get(token);
    this.#links.delete(token);
    if (!link) throw new ServiceError('download_expired', 'This download link was used or has expired. Export your data again.');
    const body = await this.#options.session.withSession((sessionToken) => this.#options.http.stream(link.file.route, { token: sessionToken, accept: link.file.contentType }));
    return { name: link.file.name, contentType: link.file.contentType, body };
  }

  /** Asks the API to delete the account; once it has accepted, this device signs out (the others are signed out by the API). */
  async deleteAccount(request: DeletionRequest): Promise<DeletionAccepted> {
    const accepted = await this.#options.session.withSession((token) => this.#options.http.call('POST', ACCOUNT_DATA_ROUTES.deletion, DeletionAccepted, { token, body: request }));
    this.#links.clear();
    await this.#options.signOut();
    return accepted;
  }

  /** Signing out forgets every download link. */
  forgetLinks(): void {
    this.#links.clear();
  }

  async #requireReverified(): Promise<void> {
    const me = await this.#options.session.withSession((token) => this.#options.http.call('GET', '/v1/me', Me, { token }));
    if (!me.reverifiedUntil || Date.parse(me.reverifiedUntil) <= this.#options.clock.now().getTime()) {
      throw new ServiceError('reverification_required', 'Confirm it is you to export your data.');
    }
  }

  #dropExpiredLinks(): void {
    const now = this.#options.clock.now().getTime();
    for (const [token, link] of this.#links) if (link.expiresAt <= now) this.#links.delete(token);
  }
}
