// Loaded with `--import` (NODE_OPTIONS) into every process of the test suite's Node 24
// run (see node24.mjs): the root's better-sqlite3 addon is built for Node 20, so its
// path resolves to the copy built for Node 24 instead. Everything else, better-sqlite3's
// JavaScript included, is the root's. Does nothing on a Node without module.registerHooks
// (older than 22.15), so a Node 20 child that inherits NODE_OPTIONS is unaffected.
import module from "node:module";
import { pathToFileURL } from "node:url";

const from = process.env.ALCHEMY_NODE24_SQLITE_ADDON_FROM;
const to = process.env.ALCHEMY_NODE24_SQLITE_ADDON_TO;

if (from && to && typeof module.registerHooks === "function") {
  const fromUrl = pathToFileURL(from).href;
  const toUrl = pathToFileURL(to).href;
  module.registerHooks({
    resolve(specifier, context, nextResolve) {
      const resolved = nextResolve(specifier, context);
      return resolved.url === fromUrl ? { ...resolved, url: toUrl } : resolved;
    },
  });
}
