/**
 * A Cloudflare Queue. A Worker sends to it through a binding
 * (`bindings: { JOBS: queue }`) and another consumes it (`eventSources: [queue]`).
 *
 * @module
 */
import { currentScope } from "../../core/context.js";
import type { Context } from "../../core/handler-context.js";
import { Resource } from "../../core/resource.js";
import type { BackendMode } from "./backend.js";
import { backendOf, deleteRecorded, checkSwitch, ensureLocal, madeBy, modeOf, readRecorded, type Recorded } from "./backend-of.js";
import { nameOf, QUEUE_NAME } from "./names.js";
import { withMethods } from "./output-methods.js";

/** Props of a {@link Queue}. */
export interface QueueProps {
  /** The queue's name; another name is another queue (a replacement). @default derived from app, scopes, id and stage */
  name?: string;
}

/** Output of a {@link Queue}. */
export interface Queue {
  name: string;
  id: string;
  backend: BackendMode;
}

/** What a program can do with a queue it declared. */
export interface QueueMethods {
  /** Sends one message to the queue's consumer. */
  send(body: unknown): Promise<void>;
}

const QueueResource = Resource(
  "cloudflare::Queue",
  {
    replaceOnChanges: ["name"],
    // Renamed outside alchemy (the API's Update Queue): the name as found, in the props too. Another
    // name is another queue, so a deploy replaces it: makes the queue the program names, deletes the renamed one.
    read(this: Context<Queue, QueueProps & Recorded>): Promise<Queue> {
      return readRecorded(this, { kind: "queue", id: this.output.id }, ({ name }) =>
        name === this.output.name ? this.output : this.observed({ ...this.output, name }, { ...this.props, name }),
      );
    },
  },
  async function (this: Context<Queue, QueueProps & Recorded>, id: string, props: QueueProps & Recorded): Promise<Queue> {
    const backend = await backendOf(this.scope, this.fqn, this.phase);
    if (this.phase === "delete") return deleteRecorded(this, backend, (output) => backend.deleteQueue(output));
    checkSwitch(this.output, backend.mode, this.fqn);
    if (madeBy(this.output, backend.mode)) return this.output;
    const name = nameOf(this.fqn, props?.name, QUEUE_NAME, this.phase === "update" ? "update" : "create");
    const { id: queueId } = await backend.createQueue(name, { adopt: this.adopt });
    return { name, id: queueId, backend: backend.mode };
  },
);

/**
 * A queue.
 *
 * @example
 * const jobs = await Queue("job-queue");
 * await Worker("job-worker", { script: "./src/jobs/index.ts", eventSources: [jobs] });
 */
export async function Queue(id: string, props: QueueProps = {}): Promise<Queue & QueueMethods> {
  const scope = currentScope();
  const output = await QueueResource(id, { ...props, backend: modeOf(scope) });
  await ensureLocal(scope, `${scope?.path}/${id}`, output, (backend) => backend.createQueue(output.name, { adopt: true }));
  return withMethods(output, () => `${scope?.path}/${id}`, (backend) => ({
    send: async (body: unknown) => (await backend()).queueSend(output, body),
  }));
}
Queue.kind = QueueResource.kind;
