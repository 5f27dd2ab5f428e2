/**
 * Routes of Queues: queues (create, list paged 20 a page by default, get, update, delete) and
 * their consumers (add, list, remove). A queue has at most one consumer, as on Cloudflare. A
 * queue's `producers` are the Workers whose uploads bind it. A Worker consumer's script must
 * exist; a dead-letter queue is a name, not checked for existence, but may not be the queue
 * itself. Settings ranges: batch_size 1-100, max_retries 0-100, max_wait_time_ms 0-60000,
 * retry_delay 0-43200 (seconds), max_concurrency 1-250.
 *
 * Update Queue (`PUT .../queues/:id { queue_name?, settings? }`) is documented as no partial
 * update: the configuration is overwritten with the one supplied. The fake keeps the name when
 * `queue_name` is left out (the contract does not say) and resets the settings left out to their
 * defaults; a name another queue holds is refused as on create. Consumers stay with the queue
 * (they name it by id); Worker bindings keep the old name, as the fake never rewrites uploads.
 * Not modelled: PATCH of a queue, updating a consumer, messages (send, pull, ack, purge),
 * pausing, event subscriptions; deleting a Worker leaves its consumers in place.
 */
import { CODES } from "./error-codes.test-fixture.js";
import { fail, ok, paginate, type RouteResponse } from "./envelope.test-fixture.js";
import { newHexId, nowIso, workerKey, type FakeQueue, type FakeQueueConsumer, type FakeQueueSettings, type FakeState } from "./fake-state.test-fixture.js";
import type { Route, RouteContext } from "./router.test-fixture.js";
import { isRecord } from "./worker-upload.test-fixture.js";

const QUEUES = "/accounts/:account_id/queues";
const QUEUE = `${QUEUES}/:queue_id`;

const SETTING_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  batch_size: [1, 100],
  max_retries: [0, 100],
  max_wait_time_ms: [0, 60_000],
  retry_delay: [0, 43_200],
  max_concurrency: [1, 250],
  visibility_timeout_ms: [0, 43_200_000],
};
const WORKER_DEFAULTS = { batch_size: 10, max_retries: 3, max_wait_time_ms: 5000 };
const QUEUE_DEFAULTS: FakeQueueSettings = { delivery_delay: 0, delivery_paused: false, message_retention_period: 345_600 };

/** The routes of queues and their consumers. */
export const queuesRoutes: readonly Route[] = [
  { method: "POST", pattern: QUEUES, permission: "Queues Write", body: "json", handle: createQueue },
  {
    method: "GET",
    pattern: QUEUES,
    permission: "Queues Read",
    body: "none",
    handle: ({ state, accountId, query }) => {
      const queues = [...state.queues.values()].filter((queue) => queue.accountId === accountId);
      const { items, info } = paginate(queues, query, { defaultPerPage: 20, maxPerPage: 1000 });
      return ok(
        items.map((queue) => queueJson(queue, state)),
        info,
      );
    },
  },
  {
    method: "GET",
    pattern: QUEUE,
    permission: "Queues Read",
    body: "none",
    handle: (context) => withQueue(context, true, (queue) => ok(queueJson(queue, context.state))),
  },
  { method: "PUT", pattern: QUEUE, permission: "Queues Write", body: "json", handle: updateQueue },
  {
    method: "DELETE",
    pattern: QUEUE,
    permission: "Queues Write",
    body: "none",
    handle: (context) =>
      withQueue(context, false, (queue) => {
        context.state.queues.delete(queue.id);
        context.state.createdAt.delete(`queue:${queue.id}`);
        return ok(null);
      }),
  },
  { method: "POST", pattern: `${QUEUE}/consumers`, permission: "Queues Write", body: "json", handle: addConsumer },
  {
    // Documented as "Push Message" (POST /accounts/{account_id}/queues/{queue_id}/messages, { body, content_type? }).
    method: "POST",
    pattern: `${QUEUE}/messages`,
    permission: "Queues Write",
    body: "json",
    handle: (context) =>
      withQueue(context, false, (queue) => {
        if (!isRecord(context.json) || !("body" in context.json)) return fail(400, CODES.queueInvalid, "The body must be { body: <message> }");
        queue.messages.push(context.json.body);
        return ok(null);
      }),
  },
  {
    method: "GET",
    pattern: `${QUEUE}/consumers`,
    permission: "Queues Read",
    body: "none",
    handle: (context) => withQueue(context, false, (queue) => ok(queue.consumers.map((consumer) => consumerJson(queue, consumer)))),
  },
  {
    method: "DELETE",
    pattern: `${QUEUE}/consumers/:consumer_id`,
    permission: "Queues Write",
    body: "none",
    handle: (context) =>
      withQueue(context, false, (queue) => {
        const index = queue.consumers.findIndex((consumer) => consumer.consumerId === context.params.consumer_id);
        if (index < 0) return fail(404, CODES.queueConsumerNotFound, `Consumer ${context.params.consumer_id} not found on queue "${queue.name}"`);
        queue.consumers.splice(index, 1);
        return ok(null);
      }),
  },
];

function createQueue({ state, accountId, json, created }: RouteContext): RouteResponse {
  if (!isRecord(json) || typeof json.queue_name !== "string") return fail(400, CODES.queueInvalid, "The body must be { queue_name: string }");
  const name = json.queue_name;
  const refused = refuseName(state, accountId, name, undefined);
  if (refused) return refused;
  const now = nowIso();
  const queue: FakeQueue = { accountId, id: newHexId(), name, settings: QUEUE_DEFAULTS, createdOn: now, modifiedOn: now, consumers: [], messages: [] };
  state.queues.set(queue.id, queue);
  created("queue", queue.id);
  return ok(queueJson(queue, state));
}

function updateQueue(context: RouteContext): RouteResponse {
  return withQueue(context, false, (queue) => {
    const { json, state, accountId } = context;
    if (!isRecord(json)) return fail(400, CODES.queueInvalid, "The body must be { queue_name?: string, settings?: object }");
    const name = json.queue_name ?? queue.name;
    if (typeof name !== "string") return fail(400, CODES.queueInvalid, "queue_name must be a string");
    const refused = refuseName(state, accountId, name, queue.id);
    if (refused) return refused;
    const settings = json.settings ?? {};
    if (!isRecord(settings)) return fail(400, CODES.queueInvalid, "settings must be an object");
    const unknown = Object.keys(settings).find((key) => !(key in QUEUE_DEFAULTS));
    if (unknown !== undefined) return fail(400, CODES.queueInvalid, `Unknown queue setting "${unknown}" (${Object.keys(QUEUE_DEFAULTS).join(", ")})`);
    queue.name = name;
    queue.settings = { ...QUEUE_DEFAULTS, ...(settings as Partial<FakeQueueSettings>) };
    queue.modifiedOn = nowIso();
    return ok(queueJson(queue, state));
  });
}

/** A 400 for a name Cloudflare refuses, a 409 for one another queue of the account holds (`self` excepted). */
function refuseName(state: FakeState, accountId: string, name: string, self: string | undefined): RouteResponse | undefined {
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(name)) {
    return fail(400, CODES.queueInvalid, `Queue name "${name}" is invalid: lowercase letters, digits and hyphens, at most 63 characters`);
  }
  if ([...state.queues.values()].some((queue) => queue.accountId === accountId && queue.name === name && queue.id !== self)) {
    return fail(409, CODES.queueNameTaken, `Queue name "${name}" is already taken`);
  }
  return undefined;
}

function addConsumer(context: RouteContext): RouteResponse {
  return withQueue(context, false, (queue) => {
    const { json, state, accountId } = context;
    if (!isRecord(json)) return fail(400, CODES.queueInvalid, "The body must be a consumer object");
    const type = json.type ?? "worker";
    if (type !== "worker" && type !== "http_pull") return fail(400, CODES.queueInvalid, `Consumer type must be "worker" or "http_pull", not ${JSON.stringify(type)}`);
    const scriptName = typeof json.script_name === "string" ? json.script_name : typeof json.script === "string" ? json.script : undefined;
    if (type === "worker") {
      if (scriptName === undefined) return fail(400, CODES.queueInvalid, "A worker consumer needs script_name");
      if (!state.workers.has(workerKey(accountId, scriptName))) return fail(400, CODES.queueInvalid, `Worker "${scriptName}" does not exist`);
    }
    if (queue.consumers.length > 0) return fail(400, CODES.queueHasConsumer, `Queue "${queue.name}" already has a consumer`);
    const settings = checkSettings(json.settings ?? {});
    if (typeof settings === "string") return fail(400, CODES.queueInvalid, settings);
    const deadLetterQueue = json.dead_letter_queue;
    if (deadLetterQueue !== undefined && (typeof deadLetterQueue !== "string" || deadLetterQueue === "")) return fail(400, CODES.queueInvalid, "dead_letter_queue must be a queue name");
    if (deadLetterQueue === queue.name) return fail(400, CODES.queueInvalid, "A queue cannot be its own dead letter queue");
    const consumer: FakeQueueConsumer = {
      consumerId: newHexId(),
      type,
      scriptName: type === "worker" ? scriptName : undefined,
      settings: type === "worker" ? { ...WORKER_DEFAULTS, ...settings } : settings,
      deadLetterQueue: deadLetterQueue as string | undefined,
      createdOn: nowIso(),
    };
    queue.consumers.push(consumer);
    return ok(consumerJson(queue, consumer));
  });
}

/** The settings, or a message saying which is wrong. */
function checkSettings(input: unknown): Record<string, number> | string {
  if (!isRecord(input)) return "settings must be an object";
  const settings: Record<string, number> = {};
  for (const [name, value] of Object.entries(input)) {
    const range = SETTING_RANGES[name];
    if (range === undefined) return `Unknown consumer setting "${name}" (${Object.keys(SETTING_RANGES).join(", ")})`;
    if (typeof value !== "number" || !Number.isInteger(value) || value < range[0] || value > range[1]) return `settings.${name} must be a whole number from ${range[0]} to ${range[1]}`;
    settings[name] = value;
  }
  return settings;
}

function withQueue(context: RouteContext, isGet: boolean, answer: (queue: FakeQueue) => RouteResponse): RouteResponse {
  const id = context.params.queue_id!;
  const queue = context.state.queues.get(id);
  if (queue === undefined || queue.accountId !== context.accountId || (isGet && context.isHidden("queue", id))) {
    return fail(404, CODES.queueNotFound, `Queue ${id} does not exist`);
  }
  return answer(queue);
}

function queueJson(queue: FakeQueue, state: FakeState) {
  const producers = [...state.workers.values()]
    .filter((worker) => worker.accountId === queue.accountId && worker.bindings.some((binding) => binding.type === "queue" && binding.queue_name === queue.name))
    .map((worker) => ({ type: "worker", script: worker.name }));
  return {
    queue_id: queue.id,
    queue_name: queue.name,
    created_on: queue.createdOn,
    modified_on: queue.modifiedOn,
    producers,
    producers_total_count: producers.length,
    consumers: queue.consumers.map((consumer) => consumerJson(queue, consumer)),
    consumers_total_count: queue.consumers.length,
    settings: queue.settings,
  };
}

function consumerJson(queue: FakeQueue, consumer: FakeQueueConsumer) {
  return {
    consumer_id: consumer.consumerId,
    queue_id: queue.id,
    queue_name: queue.name,
    type: consumer.type,
    ...(consumer.scriptName === undefined ? {} : { script_name: consumer.scriptName, script: consumer.scriptName }),
    settings: consumer.settings,
    ...(consumer.deadLetterQueue === undefined ? {} : { dead_letter_queue: consumer.deadLetterQueue }),
    created_on: consumer.createdOn,
  };
}
