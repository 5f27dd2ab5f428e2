// The page of `alchemy ui`: hash routes over the server's read-only JSON API.
// Every text from the state is set as text (textContent), never as HTML; the one
// exception is the graph's SVG, which the server renders with every name escaped.
// While a page is shown, a server-sent event stream says when what it shows has
// changed, and the page reads it again: a deploy in another terminal shows live.

const token = new URLSearchParams(location.search).get("token") ?? "";
const view = document.getElementById("view");
const crumbs = document.getElementById("crumbs");
const live = document.getElementById("live");
const whereLine = document.getElementById("where");

/** Builds an element: attributes (`class`, `href`, `data-*`, `on*` listeners), then children (strings become text). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) if (child !== undefined && child !== null && child !== false) node.append(child instanceof Node ? child : String(child));
  return node;
}

async function api(path, params = {}) {
  const query = new URLSearchParams(params).toString();
  const res = await fetch(`/api/${path}${query ? `?${query}` : ""}`, { headers: { "x-alchemy-token": token }, cache: "no-store" });
  const body = await res.json().catch(() => ({ error: `${res.status} ${res.statusText}` }));
  if (!res.ok) throw new Error(body.error ?? `${res.status} ${res.statusText}`);
  return body;
}

// ---- routes: #/  #/stage/<app>/<stage>[/graph|/history]  #/resource/<fqn>

function route() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "stage" && parts.length >= 3) return { name: "stage", app: parts[1], stage: parts[2], tab: parts[3] ?? "resources" };
  if (parts[0] === "resource" && parts.length >= 4) return { name: "resource", fqn: parts.slice(1).join("/"), app: parts[1], stage: parts[2] };
  return { name: "overview" };
}

const stageHref = (app, stage, tab) => `#/stage/${encodeURIComponent(app)}/${encodeURIComponent(stage)}${tab && tab !== "resources" ? `/${tab}` : ""}`;
const resourceHref = (fqn) => `#/resource/${fqn.split("/").map(encodeURIComponent).join("/")}`;

function setCrumbs(r) {
  const items = [el("a", { href: "#/" }, "applications")];
  if (r.app) items.push(el("span", { class: "sep" }, "/"), el("span", {}, r.app), el("span", { class: "sep" }, "/"), el("a", { href: stageHref(r.app, r.stage) }, r.stage));
  if (r.name === "resource") items.push(el("span", { class: "sep" }, "/"), el("span", {}, r.fqn.split("/").slice(2).join("/")));
  crumbs.replaceChildren(...items);
}

// ---- live updates

let events;
let eventsKey;
function watch(r) {
  const params = r.name === "overview" ? {} : { app: r.app, stage: r.stage };
  const key = JSON.stringify(params);
  if (events && eventsKey === key) return;
  events?.close();
  eventsKey = key;
  events = new EventSource(`/api/events?${new URLSearchParams({ ...params, token })}`);
  events.onopen = () => setLive(true);
  events.onerror = () => setLive(false);
  events.addEventListener("change", () => void render({ quiet: true }));
}
function setLive(on) {
  live.className = `live ${on ? "on" : "off"}`;
  live.textContent = on ? "live" : "reconnecting";
}

// ---- rendering

let rendering = 0;
async function render({ quiet = false } = {}) {
  const ticket = ++rendering;
  const r = route();
  setCrumbs(r);
  watch(r);
  if (!quiet) view.replaceChildren(el("p", { class: "muted" }, "Loading…"));
  let content;
  try {
    if (r.name === "stage") content = await stagePage(r);
    else if (r.name === "resource") content = await resourcePage(r);
    else content = await overviewPage();
  } catch (error) {
    content = el("div", { class: "error", "data-testid": "error" }, error.message);
  }
  if (ticket !== rendering) return; // a newer render started meanwhile
  const y = window.scrollY;
  const typing = document.activeElement?.getAttribute("data-testid") === "filter" ? document.activeElement : undefined;
  view.replaceChildren(content);
  const filter = typing && view.querySelector('[data-testid="filter"]');
  if (filter) {
    filter.focus(); // a live update while the user types keeps the caret where it was
    filter.setSelectionRange(typing.selectionStart, typing.selectionEnd);
  }
  if (quiet) window.scrollTo(0, y);
  view.dataset.rendered = String(ticket);
}

function ago(iso) {
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (s < 60) return `${Math.round(s)}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}
const when = (iso) => el("span", { title: iso }, `${iso.replace("T", " ").replace(/\.\d+Z$/, "Z")} (${ago(iso)})`);
const badge = (text, cls = text) => el("span", { class: `badge ${cls}` }, text);
const UNFINISHED = new Set(["creating", "updating", "deleting"]);

async function overviewPage() {
  const data = await api("overview");
  whereLine.textContent = `State: ${data.where} · read-only`;
  if (data.apps.length === 0) return el("p", { class: "muted" }, `No application has state in ${data.where} yet: deploy one, or start alchemy ui with --state pointing at your state.`);
  return el("div", {}, el("h1", {}, "Applications"), data.apps.map(({ app, stages }) => el("section", { "data-testid": "app", "data-app": app },
    el("h2", {}, app),
    stages.length === 0 ? el("p", { class: "muted" }, "No stage holds records.") : el("table", {},
      el("thead", {}, el("tr", {}, ["Stage", "Resources", "Last deploy", "Lock"].map((h) => el("th", {}, h)))),
      el("tbody", {}, stages.map((s) => el("tr", { "data-testid": "stage-row", "data-stage": s.stage },
        el("td", {}, s.denied ? s.stage : el("a", { href: stageHref(app, s.stage) }, s.stage)),
        el("td", {}, s.denied ? el("span", { class: "muted", title: s.denied.message }, `not shown to profile ${s.denied.profile}`) : [String(s.resources),
          s.unfinished ? [" ", s.lock && !s.lock.stale ? badge(`${s.unfinished} in progress`, "creating") : badge(`${s.unfinished} unfinished`, "failed")] : null]),
        el("td", {}, s.lastDeploy ? [when(s.lastDeploy.at), " by ", s.lastDeploy.by, s.lastDeploy.ok ? "" : [" ", badge("failed")]] : s.updatedAt ? ["no deploy recorded; changed ", when(s.updatedAt)] : el("span", { class: "muted" }, "—")),
        el("td", {}, s.lock ? [badge(s.lock.stale ? "stale lock" : "locked", s.lock.stale ? "stale" : "locked"), " ", s.lock.holder] : el("span", { class: "muted" }, "free")),
      ))),
    ),
  )));
}

async function stagePage(r) {
  const data = await api("stage", { app: r.app, stage: r.stage });
  whereLine.textContent = `State: ${data.where} · read-only`;
  const counts = new Map();
  for (const n of data.nodes) counts.set(n.status, (counts.get(n.status) ?? 0) + 1);
  const tabs = ["resources", "graph", "history"].map((t) => el("a", { href: stageHref(r.app, r.stage, t), class: t === r.tab ? "active" : undefined, "data-testid": `tab-${t}` }, t[0].toUpperCase() + t.slice(1)));
  let body;
  if (r.tab === "graph") body = await graphView(r);
  else if (r.tab === "history") body = await historyView(r);
  else body = treeView(data);
  return el("div", { "data-testid": "stage", "data-app": r.app, "data-stage": r.stage },
    el("h1", {}, `${r.app} / ${r.stage}`),
    data.lock ? el("div", { class: `banner${data.lock.stale ? " stale" : ""}`, "data-testid": "lock-banner" },
      data.lock.stale ? "Stale lock (its holder stopped renewing it): " : `${data.lock.command} running: `, data.lock.holder, ", since ", when(data.lock.acquiredAt)) : null,
    el("div", { class: "counts", "data-testid": "counts" }, `${data.nodes.length} resources:`, [...counts].map(([status, n]) => badge(`${n} ${status}`, status)),
      data.lastDeploy ? el("span", { class: "muted" }, " · last deploy ", when(data.lastDeploy.at), ` by ${data.lastDeploy.by}`) : null),
    el("nav", { class: "tabs" }, tabs),
    body);
}

/** The scope tree: the stage, nested scopes, and under each resource the resource scope its handler declared. */
function treeView(data) {
  const byScope = new Map();
  for (const n of data.nodes) (byScope.get(n.scope) ?? byScope.set(n.scope, []).get(n.scope)).push(n);
  const children = new Map();
  const owned = new Map();
  for (const s of data.scopes) {
    if (s.owner) owned.set(s.owner, s);
    else if (s.parent) (children.get(s.parent) ?? children.set(s.parent, []).get(s.parent)).push(s);
  }
  const scopeItems = (path) => [
    ...(children.get(path) ?? []).map((s) => el("li", { class: "scope", "data-testid": "scope", "data-scope": s.path }, el("div", { class: "label" }, s.name, " ", el("span", { class: "kind muted" }, "scope")), el("ul", { class: "tree" }, scopeItems(s.path)))),
    ...(byScope.get(path) ?? []).map((n) => el("li", {},
      el("div", { class: `row${UNFINISHED.has(n.status) ? " unfinished" : ""}`, "data-testid": "resource-row", "data-fqn": n.fqn, "data-kind": n.kind, "data-status": n.status },
        badge(n.status), el("a", { href: resourceHref(n.fqn) }, n.id), el("span", { class: "kind" }, n.kind),
        n.protect ? badge("protected", "protect") : null, n.retain ? badge("retained", "retain") : null),
      owned.has(n.fqn) ? el("ul", { class: "tree" }, scopeItems(owned.get(n.fqn).path)) : null)),
  ];
  const tree = el("ul", { class: "tree root", "data-testid": "tree" }, scopeItems(`${data.app}/${data.stage}`));
  const input = el("input", { type: "search", class: "filter", placeholder: "Filter by id, fqn, kind or status", value: filters.get(`${data.app}/${data.stage}`) ?? "", "data-testid": "filter", "aria-label": "Filter resources" });
  const shown = el("span", { class: "muted" });
  const apply = () => {
    filters.set(`${data.app}/${data.stage}`, input.value);
    const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    let count = 0;
    for (const row of tree.querySelectorAll('[data-testid="resource-row"]')) {
      const text = `${row.dataset.fqn} ${row.dataset.kind} ${row.dataset.status}`.toLowerCase();
      const match = words.every((w) => text.includes(w));
      row.hidden = !match;
      if (match) count++;
    }
    // A scope or resource item stays while anything under it is shown.
    for (const li of [...tree.querySelectorAll("li")].reverse()) li.hidden = !li.querySelector('[data-testid="resource-row"]:not([hidden])');
    shown.textContent = words.length ? ` ${count} of ${data.nodes.length} shown` : "";
  };
  input.addEventListener("input", apply);
  apply();
  return el("div", {}, el("div", { class: "toolbar" }, input, shown), tree);
}
/** The filter typed on each stage's tree, kept while the page lives (a live update or a visit to a resource keeps it). */
const filters = new Map();

async function graphView(r) {
  const data = await api("graph", { app: r.app, stage: r.stage });
  const box = el("div", { class: "graph", "data-testid": "graph", "data-nodes": data.nodes, "data-edges": data.edges });
  box.innerHTML = data.svg; // rendered by the server with every name escaped (src/graph/svg.ts)
  for (const node of box.querySelectorAll(".node[data-fqn]")) node.addEventListener("click", () => (location.hash = resourceHref(node.getAttribute("data-fqn"))));
  return el("div", {}, el("p", { class: "muted" }, `${data.nodes} resources, ${data.edges} dependencies. Click a resource to open it.`), box);
}

async function historyView(r) {
  const data = await api("history", { app: r.app, stage: r.stage, limit: 100 });
  if (!data.kept) return el("p", { class: "muted" }, "This store keeps no history.");
  if (data.entries.length === 0) return el("p", { class: "muted" }, "No run has changed this stage yet.");
  return el("div", { "data-testid": "history" }, data.entries.map((e) => entryView(e)));
}

const SIGN = { create: "+", update: "~", replace: "±", delete: "-" };
const PAST = { create: "created", update: "updated", replace: "replaced", delete: "deleted" };
const show = (v) => (v === undefined ? "(none)" : JSON.stringify(v));

function entryView(entry, only) {
  const resources = only ? entry.resources.filter((x) => x.fqn === only) : entry.resources;
  const summary = new Map();
  for (const x of entry.resources) summary.set(x.action, (summary.get(x.action) ?? 0) + 1);
  return el("div", { class: "entry", "data-testid": "history-entry", "data-run": entry.run },
    el("div", { class: "head" }, el("code", {}, entry.run), when(entry.at), el("strong", {}, entry.command), entry.by, badge(entry.outcome, entry.outcome),
      el("span", { class: "muted" }, `${(entry.durationMs / 1000).toFixed(1)}s`), el("span", { class: "muted" }, [...summary].map(([a, n]) => `${n} ${PAST[a] ?? a}`).join(", "))),
    el("ul", {}, resources.map((x) => el("li", {},
      el("span", { class: `sign ${x.action}` }, SIGN[x.action] ?? "?"), el("a", { href: resourceHref(x.fqn) }, x.fqn), x.failed ? [" ", badge("failed")] : null,
      x.changes.length ? el("div", { class: "change mono" }, x.changes.map((c) => `${c.path || "(all)"}: ${show(c.before)} → ${show(c.after)}`).join("  ·  ")) : null))));
}

async function resourcePage(r) {
  const data = await api("resource", { fqn: r.fqn });
  const links = (list, empty) => (list.length === 0 ? el("p", { class: "muted" }, empty) : el("ul", { class: "links" }, list));
  return el("div", { "data-testid": "resource", "data-fqn": data.fqn },
    el("h1", {}, data.fqn),
    el("dl", { class: "kv" },
      el("dt", {}, "kind"), el("dd", {}, el("code", {}, data.kind)),
      el("dt", {}, "status"), el("dd", {}, badge(data.status), data.replaced ? ` (${data.replaced} replaced instance(s) awaiting deletion)` : ""),
      el("dt", {}, "version"), el("dd", {}, `seq ${data.seq}`),
      el("dt", {}, "deletion"), el("dd", {}, data.protect ? badge("protected", "protect") : null, " ", data.retain ? badge("retained", "retain") : null, !data.protect && !data.retain ? el("span", { class: "muted" }, "deleted when it leaves the program") : null)),
    el("h2", {}, "Dependencies"),
    el("div", { "data-testid": "dependencies" }, links(data.dependencies.map((d) => el("li", {}, d.missing ? [d.fqn, " ", badge("no record", "missing")] : el("a", { href: resourceHref(d.fqn) }, d.fqn))), "None.")),
    el("h2", {}, "Dependents"),
    el("div", { "data-testid": "dependents" }, links(data.dependents.map((d) => el("li", {}, el("a", { href: resourceHref(d) }, d))), "None.")),
    el("h2", {}, "Props"), el("pre", { class: "json", "data-testid": "props" }, JSON.stringify(data.props, null, 2) ?? "undefined"),
    el("h2", {}, "Output"), el("pre", { class: "json", "data-testid": "output" }, JSON.stringify(data.output, null, 2) ?? "undefined"),
    data.data && Object.keys(data.data).length ? [el("h2", {}, "Data"), el("pre", { class: "json" }, JSON.stringify(data.data, null, 2))] : null,
    el("h2", {}, "History"),
    data.history.length === 0 ? el("p", { class: "muted" }, "No kept run changed this resource.") : el("div", { "data-testid": "resource-history" }, data.history.map((e) => entryView(e, data.fqn))),
    el("p", {}, el("a", { href: stageHref(data.app, data.stage), "data-testid": "back" }, `← ${data.app}/${data.stage}`)));
}

window.addEventListener("hashchange", () => void render());
void render();
