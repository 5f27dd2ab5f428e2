/**
 * Routes of R2: buckets (create, list, get, delete) and objects (raw PUT/GET/DELETE, listing).
 *
 * A bucket's identity is its name within a jurisdiction: every bucket route reads the optional
 * `cf-r2-jurisdiction` header ("default", "eu", "fedramp"), so a bucket created in "eu" is not
 * found without the header. Object keys are the rest of the path, decoded (`a/b.txt` or
 * `a%2Fb.txt`). ETags are the MD5 of the body (R2's single-part ETag). PUT honours
 * `If-None-Match: *` (fails if the key exists) and `If-Match: <etag>[, ...]` or `*` (fails if
 * the key is missing or its ETag is not listed) with a 412. The object routes follow what
 * wrangler's `r2 object` commands call; Cloudflare's API reference does not list them, so their
 * answers' shapes (the listing's `result_info` above all) are the fake's guess. Not modelled:
 * conditional GETs, ranges, multipart uploads, custom metadata, CORS/lifecycle/domains,
 * storage-class transitions.
 */
import { createHash } from "node:crypto";
import { CODES } from "./error-codes.test-fixture.js";
import { cursorPage, fail, intParam, ok, raw, type RouteResponse } from "./envelope.test-fixture.js";
import { bucketKey, nowIso, type FakeR2Bucket, type FakeR2Object } from "./fake-state.test-fixture.js";
import type { Route, RouteContext } from "./router.test-fixture.js";
import { isRecord } from "./worker-upload.test-fixture.js";

const JURISDICTIONS = ["default", "eu", "fedramp"];
const LOCATION_HINTS = ["apac", "eeur", "enam", "weur", "wnam", "oc"];
const STORAGE_CLASSES = ["Standard", "InfrequentAccess"];
const BUCKETS = "/accounts/:account_id/r2/buckets";
const BUCKET = `${BUCKETS}/:bucket_name`;
const OBJECT = `${BUCKET}/objects/*key`;

/** The routes of R2 buckets and objects. */
export const r2Routes: readonly Route[] = [
  { method: "POST", pattern: BUCKETS, permission: "Workers R2 Storage Write", body: "json", handle: createBucket },
  { method: "GET", pattern: BUCKETS, permission: "Workers R2 Storage Read", body: "none", handle: listBuckets },
  {
    method: "GET",
    pattern: BUCKET,
    permission: "Workers R2 Storage Read",
    body: "none",
    handle: (context) => withBucket(context, true, (bucket) => ok(bucketJson(bucket))),
  },
  {
    method: "DELETE",
    pattern: BUCKET,
    permission: "Workers R2 Storage Write",
    body: "none",
    handle: (context) =>
      withBucket(context, false, (bucket) => {
        if (bucket.objects.size > 0) return fail(409, CODES.r2BucketNotEmpty, "The bucket you tried to delete is not empty.");
        const key = bucketKey(bucket.accountId, bucket.jurisdiction, bucket.name);
        context.state.r2Buckets.delete(key);
        context.state.createdAt.delete(`r2_bucket:${key}`);
        return ok({});
      }),
  },
  { method: "PUT", pattern: OBJECT, permission: "Workers R2 Storage Write", body: "raw", handle: putObject },
  {
    method: "GET",
    pattern: OBJECT,
    permission: "Workers R2 Storage Read",
    body: "none",
    handle: (context) =>
      withBucket(context, false, (bucket) => {
        const object = bucket.objects.get(context.params.key!);
        if (object === undefined) return fail(404, CODES.r2NoSuchKey, "The specified key does not exist.");
        return raw(object.body, {
          etag: `"${object.etag}"`,
          "content-type": object.contentType ?? "application/octet-stream",
          "last-modified": new Date(object.uploaded).toUTCString(),
        });
      }),
  },
  {
    method: "DELETE",
    pattern: OBJECT,
    permission: "Workers R2 Storage Write",
    body: "none",
    handle: (context) =>
      withBucket(context, false, (bucket) => {
        bucket.objects.delete(context.params.key!);
        return ok({});
      }),
  },
  { method: "GET", pattern: `${BUCKET}/objects`, permission: "Workers R2 Storage Read", body: "none", handle: listObjects },
];

/** The jurisdiction a request names, or a 400 for one R2 does not have. */
function jurisdictionOf(headers: Headers): string | RouteResponse {
  const jurisdiction = headers.get("cf-r2-jurisdiction") ?? "default";
  return JURISDICTIONS.includes(jurisdiction) ? jurisdiction : fail(400, CODES.r2Invalid, `Unknown jurisdiction "${jurisdiction}" (${JURISDICTIONS.join(", ")})`);
}

function createBucket({ state, accountId, json, headers, created }: RouteContext): RouteResponse {
  const jurisdiction = jurisdictionOf(headers);
  if (typeof jurisdiction !== "string") return jurisdiction;
  if (!isRecord(json) || typeof json.name !== "string") return fail(400, CODES.r2Invalid, "The body must be { name: string, locationHint?: string, storageClass?: string }");
  const { name, locationHint, storageClass } = json;
  if (!/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(name)) {
    return fail(400, CODES.r2InvalidBucketName, "The specified bucket name is not valid: 3-63 lowercase letters, digits and hyphens, starting and ending with a letter or digit.");
  }
  if (locationHint !== undefined && (typeof locationHint !== "string" || !LOCATION_HINTS.includes(locationHint.toLowerCase()))) {
    return fail(400, CODES.r2Invalid, `locationHint must be one of ${LOCATION_HINTS.join(", ")}`);
  }
  if (storageClass !== undefined && (typeof storageClass !== "string" || !STORAGE_CLASSES.includes(storageClass))) {
    return fail(400, CODES.r2Invalid, `storageClass must be one of ${STORAGE_CLASSES.join(", ")}`);
  }
  const key = bucketKey(accountId, jurisdiction, name);
  if (state.r2Buckets.has(key)) return fail(409, CODES.r2BucketExists, "The bucket you tried to create already exists, and you own it.");
  const bucket: FakeR2Bucket = {
    accountId,
    name,
    jurisdiction,
    location: typeof locationHint === "string" ? locationHint.toUpperCase() : "ENAM",
    storageClass: (storageClass as string | undefined) ?? "Standard",
    creationDate: nowIso(),
    objects: new Map(),
  };
  state.r2Buckets.set(key, bucket);
  created("r2_bucket", key);
  return ok(bucketJson(bucket));
}

function listBuckets({ state, accountId, headers, query }: RouteContext): RouteResponse {
  const jurisdiction = jurisdictionOf(headers);
  if (typeof jurisdiction !== "string") return jurisdiction;
  const contains = query.get("name_contains") ?? "";
  let buckets = [...state.r2Buckets.values()]
    .filter((bucket) => bucket.accountId === accountId && bucket.jurisdiction === jurisdiction && bucket.name.includes(contains))
    .sort((a, b) => a.name.localeCompare(b.name));
  if (query.get("direction") === "desc") buckets = buckets.reverse();
  const perPage = Math.min(1000, Math.max(1, intParam(query, "per_page") ?? 20));
  const page = cursorPage(buckets, query.get("cursor"), perPage);
  return ok({ buckets: page.items.map(bucketJson) }, { cursor: page.next, per_page: perPage });
}

function putObject(context: RouteContext): RouteResponse {
  return withBucket(context, false, (bucket) => {
    const key = context.params.key!;
    const existing = bucket.objects.get(key);
    const precondition = checkPreconditions(context.headers, existing);
    if (precondition !== undefined) return precondition;
    const object: FakeR2Object = {
      key,
      body: context.body,
      etag: createHash("md5").update(context.body).digest("hex"),
      uploaded: nowIso(),
      contentType: context.headers.get("content-type") ?? undefined,
    };
    bucket.objects.set(key, object);
    return ok(objectJson(object));
  });
}

function checkPreconditions(headers: Headers, existing: FakeR2Object | undefined): RouteResponse | undefined {
  const failed = () => fail(412, CODES.r2PreconditionFailed, "At least one of the pre-conditions you specified did not hold.");
  const ifNoneMatch = headers.get("if-none-match");
  if (ifNoneMatch !== null && existing !== undefined && (ifNoneMatch.trim() === "*" || etagsOf(ifNoneMatch).includes(existing.etag))) return failed();
  const ifMatch = headers.get("if-match");
  if (ifMatch !== null) {
    if (existing === undefined) return failed();
    if (ifMatch.trim() !== "*" && !etagsOf(ifMatch).includes(existing.etag)) return failed();
  }
  return undefined;
}

/** The ETags of an If-Match/If-None-Match header, unquoted (weak `W/` prefixes dropped). */
function etagsOf(header: string): string[] {
  return header.split(",").map((tag) => tag.trim().replace(/^W\//, "").replace(/^"(.*)"$/, "$1"));
}

function listObjects(context: RouteContext): RouteResponse {
  return withBucket(context, false, (bucket) => {
    const { query } = context;
    const prefix = query.get("prefix") ?? "";
    const delimiter = query.get("delimiter") ?? "";
    const perPage = Math.min(1000, Math.max(1, intParam(query, "per_page") ?? 1000));
    const entries: ({ kind: "object"; object: FakeR2Object } | { kind: "prefix"; prefix: string })[] = [];
    const seenPrefixes = new Set<string>();
    const keys = [...bucket.objects.keys()].filter((key) => key.startsWith(prefix)).sort();
    for (const key of keys) {
      const at = delimiter === "" ? -1 : key.indexOf(delimiter, prefix.length);
      if (at < 0) {
        entries.push({ kind: "object", object: bucket.objects.get(key)! });
        continue;
      }
      const common = key.slice(0, at + delimiter.length);
      if (!seenPrefixes.has(common)) {
        seenPrefixes.add(common);
        entries.push({ kind: "prefix", prefix: common });
      }
    }
    const page = cursorPage(entries, query.get("cursor"), perPage);
    return ok(
      page.items.flatMap((entry) => (entry.kind === "object" ? [objectJson(entry.object)] : [])),
      {
        cursor: page.next,
        is_truncated: page.next !== "",
        delimited: page.items.flatMap((entry) => (entry.kind === "prefix" ? [entry.prefix] : [])),
        per_page: perPage,
      },
    );
  });
}

function withBucket(context: RouteContext, isGet: boolean, answer: (bucket: FakeR2Bucket) => RouteResponse): RouteResponse {
  const jurisdiction = jurisdictionOf(context.headers);
  if (typeof jurisdiction !== "string") return jurisdiction;
  const key = bucketKey(context.accountId, jurisdiction, context.params.bucket_name!);
  const bucket = context.state.r2Buckets.get(key);
  if (bucket === undefined || (isGet && context.isHidden("r2_bucket", key))) return fail(404, CODES.r2NoSuchBucket, "The specified bucket does not exist.");
  return answer(bucket);
}

function bucketJson(bucket: FakeR2Bucket) {
  return { name: bucket.name, creation_date: bucket.creationDate, location: bucket.location, storage_class: bucket.storageClass, jurisdiction: bucket.jurisdiction };
}

function objectJson(object: FakeR2Object) {
  return {
    key: object.key,
    etag: object.etag,
    size: object.body.byteLength,
    last_modified: object.uploaded,
    http_metadata: object.contentType === undefined ? {} : { contentType: object.contentType },
    custom_metadata: {},
    storage_class: "Standard",
  };
}
