/**
 * The S3 emulator's process: s3rver on 127.0.0.1 (a port of its own),
 * storing under the directory given as the first argument, with the buckets
 * named after it. Prints `{"port":N}` once listening.
 *
 * s3rver ignores If-None-Match and If-Match on PUT and DELETE; AWS S3 and R2
 * honour both (412 PreconditionFailed). The middleware in front of s3rver's
 * handlers serialises the requests of each object and enforces both
 * preconditions, so that the store is tested against the documented
 * contract rather than the emulator's gap. Run with `--openssl-legacy-provider`
 * on Node 20: s3rver's continuation tokens use a cipher Node 20 disabled.
 */
"use strict";
const S3rver = require("s3rver");

const [directory, ...buckets] = process.argv.slice(2);

/** The tail of the promise chain of each `bucket/key`: requests of one object run one at a time. */
const queues = new Map();

function objectOf(ctx) {
  const [bucket, ...rest] = ctx.path.replace(/^\/+/, "").split("/");
  if (!bucket || rest.length === 0 || rest.join("/") === "") return undefined;
  return { bucket: decodeURIComponent(bucket), key: rest.map(decodeURIComponent).join("/") };
}

function unquote(etag) {
  return String(etag ?? "").replace(/^W\//, "").replace(/^"(.*)"$/, "$1");
}

function preconditionFailed(ctx) {
  ctx.status = 412;
  ctx.type = "application/xml";
  ctx.body =
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code>' +
    "<Message>At least one of the pre-conditions you specified did not hold</Message><Condition>If-Match</Condition></Error>";
}

async function enforce(ctx, next) {
  const object = objectOf(ctx);
  // Subresources (?uploads, ?tagging...) are not object writes; the SDK's own ?x-id=PutObject is.
  if (object === undefined || Object.keys(ctx.query).some((name) => name !== "x-id")) return next();
  const id = `${object.bucket}/${object.key}`;
  const before = queues.get(id) ?? Promise.resolve();
  let done;
  const mine = new Promise((resolve) => (done = resolve));
  const tail = before.then(() => mine);
  queues.set(id, tail);
  await before;
  try {
    if (ctx.method === "PUT" || ctx.method === "DELETE") {
      const ifNoneMatch = ctx.get("if-none-match");
      const ifMatch = ctx.get("if-match");
      if (ifNoneMatch || ifMatch) {
        const store = ctx.app.store;
        const exists = await store.existsObject(object.bucket, object.key);
        if (ifNoneMatch === "*" && exists) return preconditionFailed(ctx);
        if (ifMatch) {
          if (!exists) return preconditionFailed(ctx);
          const metadata = await store.getMetadata(object.bucket, object.key);
          if (unquote(metadata.etag) !== unquote(ifMatch)) return preconditionFailed(ctx);
        }
      }
    }
    await next();
    // Koa streams a body after the middleware returns: read it now, so that a write queued behind this read cannot cut it short.
    if (ctx.body && typeof ctx.body.pipe === "function") {
      const chunks = [];
      for await (const chunk of ctx.body) chunks.push(chunk);
      ctx.body = Buffer.concat(chunks);
    }
  } finally {
    done();
    if (queues.get(id) === tail) queues.delete(id);
  }
}

const server = new S3rver({
  address: "127.0.0.1",
  port: 0,
  silent: true,
  directory,
  configureBuckets: buckets.map((name) => ({ name })),
});
/**
 * s3rver's delimited listing never finds a common prefix whose objects all
 * lie two or more levels down (its directory walk prunes them): `a/b/c.json`
 * alone under prefix `a/` gives no `a/b/`. S3 gives it. This lists every key
 * under the prefix and applies the delimiter and the page size as S3 does
 * (a common prefix is reported once, on the page its position falls in).
 */
function delimitedListing(store) {
  const original = store.listObjects.bind(store);
  store.listObjects = async (bucket, options) => {
    const { delimiter = "", startAfter = "", prefix = "", maxKeys = Infinity } = options;
    if (!delimiter) return original(bucket, options);
    const all = await original(bucket, { prefix, startAfter });
    const objects = [];
    const prefixes = new Set();
    let isTruncated = false;
    for (const object of all.objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
      const at = object.key.slice(prefix.length).indexOf(delimiter);
      if (at !== -1) {
        prefixes.add(object.key.slice(0, prefix.length + at + delimiter.length));
        continue;
      }
      if (objects.length >= maxKeys) {
        isTruncated = true;
        break;
      }
      objects.push(object);
    }
    const last = objects[objects.length - 1]?.key;
    const commonPrefixes = [...prefixes].filter((p) => p > startAfter && (!isTruncated || p < last)).sort();
    return { objects, commonPrefixes, isTruncated };
  };
}
delimitedListing(server.store);

/**
 * s3rver answers a PUT once the body has passed through its MD5 transform,
 * before the object file is flushed: a GET right after the answer can read
 * a truncated object. S3 makes a PUT visible whole once it is answered. This
 * writes the object to a temporary file, renames it into place, then writes
 * the metadata, all before the answer.
 */
function atomicPut(store) {
  const fs = require("node:fs");
  const path = require("node:path");
  const crypto = require("node:crypto");
  store.putObject = async function putObject(object) {
    const chunks = [];
    if (Buffer.isBuffer(object.content)) chunks.push(object.content);
    else for await (const chunk of object.content) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    const objectPath = this.getResourcePath(object.bucket, object.key, "object");
    await fs.promises.mkdir(path.dirname(objectPath), { recursive: true });
    const temporary = `${objectPath}.${crypto.randomBytes(6).toString("hex")}.partial`;
    await fs.promises.writeFile(temporary, body);
    await fs.promises.rename(temporary, objectPath);
    const md5 = crypto.createHash("md5").update(body).digest("hex");
    await this.putMetadata(object.bucket, object.key, object.metadata, md5);
    return { size: body.length, md5 };
  };
}
atomicPut(server.store);

/**
 * Request counts by operation, for the benchmark: `GET /__stats` answers
 * them as JSON and starts counting afresh (no bucket can be named `__stats`).
 */
const counts = {};
async function count(ctx, next) {
  if (ctx.path === "/__stats") {
    ctx.type = "application/json";
    ctx.body = JSON.stringify({ ...counts });
    for (const name of Object.keys(counts)) delete counts[name];
    return;
  }
  const object = objectOf(ctx);
  const operation = object === undefined ? (ctx.method === "GET" ? "LIST" : ctx.method) : ctx.method;
  counts[operation] = (counts[operation] ?? 0) + 1;
  return next();
}

// S3_EMULATOR_IGNORE_CONDITIONS=1 leaves s3rver as it is, for the test of an endpoint without conditional writes.
if (process.env.S3_EMULATOR_IGNORE_CONDITIONS !== "1") server.middleware.unshift(enforce);
server.middleware.unshift(count);
server.run((error, { port } = {}) => {
  if (error) {
    console.error(error);
    process.exit(1);
  }
  process.stdout.write(`${JSON.stringify({ port })}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
