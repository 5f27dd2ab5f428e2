/**
 * How the Cloudflare API client walks a list: by page number
 * (`result_info.page` / `total_pages`, or `total_count` / `per_page`), or by
 * cursor (`result_info.cursor`, empty on the last page; KV keys, R2).
 *
 * @module
 */
import { AlchemyError } from "../../../core/errors.js";
import type { Envelope } from "./envelope.js";

/** A query string as the client takes it; undefined values are left out. */
export type Query = Record<string, string | number | undefined>;

/** Options of `CloudflareApi.paginate`. */
export interface PaginateOptions<T> {
  /**
   * Where the items are in a page's `result`, for endpoints whose result is
   * not the list itself (R2 answers `{ buckets: [...] }`).
   * @default (result) => result
   * @example
   * api.paginate<Bucket>(`/accounts/${id}/r2/buckets`, {}, { items: (r) => (r as { buckets: Bucket[] }).buckets });
   */
  items?: (result: unknown) => T[];
  /** Extra headers of every page's request, e.g. `cf-r2-jurisdiction`. */
  headers?: Record<string, string>;
}

/**
 * Every item of the list at `path`, fetching pages with `getPage` until the
 * last one.
 *
 * @throws AlchemyError when a page's result is not a list, or a cursor comes
 *   back twice (the server would make the walk endless).
 */
export async function collectPages<T>(getPage: (query: Query) => Promise<Envelope>, path: string, query: Query, options: PaginateOptions<T> = {}): Promise<T[]> {
  const all: T[] = [];
  const cursors = new Set<string>();
  let next: Query = { ...query };
  for (;;) {
    const { result, result_info: info } = await getPage(next);
    const items = options.items ? options.items(result) : result;
    if (!Array.isArray(items)) {
      throw new AlchemyError(`Cloudflare answered GET ${path} with a result that is not a list; pass paginate's "items" option to say where the list is.`);
    }
    all.push(...(items as T[]));
    if (typeof info?.cursor === "string" && info.cursor !== "") {
      if (cursors.has(info.cursor)) throw new AlchemyError(`Cloudflare answered GET ${path} with the same cursor twice; stopped listing after ${all.length} items.`);
      cursors.add(info.cursor);
      next = { ...next, cursor: info.cursor };
      continue;
    }
    const page = info?.page;
    const totalPages = info?.total_pages ?? (info?.total_count !== undefined && info?.per_page ? Math.ceil(info.total_count / info.per_page) : undefined);
    if (page === undefined || totalPages === undefined || page >= totalPages || items.length === 0) return all;
    next = { ...next, page: page + 1 };
  }
}
