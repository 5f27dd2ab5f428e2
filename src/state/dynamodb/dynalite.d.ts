/** dynalite 4 (a devDependency: the DynamoDB emulator of the store's tests) ships no types. */
declare module "dynalite" {
  import type { Server } from "node:http";

  interface DynaliteOptions {
    /** How long a new table stays CREATING. @default 500 */
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    /** @default 400 */
    maxItemSizeKb?: number;
    /** A LevelDB directory; in memory when omitted. */
    path?: string;
  }

  function dynalite(options?: DynaliteOptions): Server;
  export = dynalite;
}
