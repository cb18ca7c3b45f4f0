// The jwtapi console: routes, a token workbench and the live request log.
// Plain JavaScript, no build step; it talks to the console's own JSON API.
"use strict";

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "dataset") Object.assign(e.dataset, v);
    else if (k === "class") e.className = v;
    else e[k] = v;
  }
  for (const c of children) e.append(c);
  return e;
};

const state = { apis: [], routes: [], issuer: null, rows: [], pending: [], detailId: null };
const MAX_ROWS = 500;

async function api(path, body) {
  const opts = body === undefined ? {} : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
  const res = await fetch(path, opts);
  const data = await res.json().catch(() => ({ error: res.statusText }));
  if (!res.ok) throw new Error(data.error || res.statusText);
  return data;
}

// --- APIs and routes -------------------------------------------------------

function renderAPIs() {
  const box = $("apis");
  box.replaceChildren();
  const select = $("send-route"), filter = $("filter-route");
  const chosen = select.value;
  select.replaceChildren();
  for (const a of state.apis) {
    box.append(el("div", { class: "api-name" }, `${a.name} (${a.kind === "rest" ? "REST" : "HTTP"} API) `, el("span", { class: "muted" }, a.url)));
    const tbody = el("tbody");
    for (const r of a.routes) {
      const protection = [r.auth];
      if (r.issuers && r.issuers.length) protection.push(`issuer ${r.issuers.join(", ")}; audiences ${r.audiences.join(", ")}`);
      if (r.rule) protection.push(`rule ${r.rule}`);
      tbody.append(el("tr", { dataset: { key: r.key, api: a.key } },
        el("td", { class: "mono" }, r.method), el("td", { class: "mono" }, r.path),
        el("td", {}, protection.join(" · ")), el("td", { class: "mono" }, r.handler),
        el("td", { class: "s" + String(r.lastStatus || "").charAt(0) }, r.lastStatus ? String(r.lastStatus) : "")));
      select.append(el("option", { value: JSON.stringify([a.key, r.key]), textContent: `${a.name}: ${r.key}` }));
      if (![...filter.options].some((o) => o.value === r.key)) filter.append(el("option", { value: r.key, textContent: r.key }));
    }
    box.append(el("table", { class: "routes" },
      el("thead", {}, el("tr", {}, el("th", {}, "Method"), el("th", {}, "Path"), el("th", {}, "Protection"), el("th", {}, "Handler"), el("th", {}, "Last"))), tbody));
  }
  if ([...select.options].some((o) => o.value === chosen)) {
    select.value = chosen;
    return; // keep the path parameters typed in
  }
  renderParams();
}

function chosenRoute() {
  const [apiKey, key] = $("send-route").value ? JSON.parse($("send-route").value) : [];
  const a = state.apis.find((x) => x.key === apiKey);
  return { api: a, route: a && a.routes.find((r) => r.key === key) };
}

function renderParams() {
  const { route } = chosenRoute();
  const box = $("params");
  box.replaceChildren();
  for (const p of (route && route.pathParams) || []) {
    box.append(el("label", {}, p, el("input", { class: "param", dataset: { name: p }, value: "1" })));
  }
}

// --- Token workbench ---------------------------------------------------------

function renderIssuer() {
  const iss = state.issuer, who = $("who"), aud = $("audience");
  who.replaceChildren();
  aud.replaceChildren();
  if (!iss.embedded) {
    $("issuer-note").textContent = "no embedded issuer: paste a token from your issuer";
    $("mint").disabled = true;
    return;
  }
  $("issuer-note").textContent = "embedded issuer " + iss.url;
  const opt = (v, text) => who.append(el("option", { value: JSON.stringify(v), textContent: text }));
  for (const u of iss.users || []) opt({ kind: "user", who: u.id }, `user ${u.name} (${u.id})`);
  for (const c of iss.clients || []) opt({ kind: "client", who: c.id }, `machine client ${c.id}`);
  for (const p of iss.pools || []) opt({ kind: "pool", who: p.client, pool: p.pool }, `user pool ${p.pool} client ${p.client}`);
  for (const a of iss.audiences || []) aud.append(el("option", { value: a, textContent: a }));
  const g = iss.grant || {};
  $("scope").value = (g.Scopes || []).join(" ");
  $("permissions").value = (g.Permissions || []).join(" ");
}

async function mint() {
  const { kind, who, pool } = JSON.parse($("who").value);
  const words = (s) => s.split(/\s+/).filter(Boolean);
  try {
    const r = await api("/api/mint", { kind, who, pool, audience: $("audience").value, scope: $("scope").value,
      permissions: kind === "pool" ? [] : words($("permissions").value), ttl: $("ttl").value, expired: $("expired").checked });
    $("token").value = r.token;
    decode();
  } catch (e) {
    $("claims").textContent = "mint failed: " + e.message;
  }
}

function b64json(part) {
  const s = part.replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(decodeURIComponent(escape(atob(s + "=".repeat((4 - s.length % 4) % 4)))));
}

let claimsNow = null;
function decode() {
  const parts = $("token").value.trim().replace(/^Bearer\s+/i, "").split(".");
  claimsNow = null;
  try {
    $("header").textContent = JSON.stringify(b64json(parts[0]), null, 2);
    claimsNow = b64json(parts[1]);
    $("claims").textContent = JSON.stringify(claimsNow, null, 2);
  } catch {
    $("header").textContent = parts[0] ? "not a JWT" : "";
    $("claims").textContent = "";
  }
  tick();
}

function tick() {
  const badge = $("expiry");
  if (!claimsNow || typeof claimsNow.exp !== "number") { badge.textContent = ""; return; }
  const left = Math.round(claimsNow.exp - Date.now() / 1000);
  const fmt = (s) => s >= 3600 ? `${Math.floor(s / 3600)} h ${Math.floor(s % 3600 / 60)} min` : s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
  badge.textContent = left > 0 ? `expires in ${fmt(left)}` : `expired ${fmt(-left)} ago`;
}

async function send() {
  const { api: a, route } = chosenRoute();
  if (!route) return;
  let path = route.path;
  for (const input of document.querySelectorAll("#params .param")) {
    path = path.replace(new RegExp(`\\{${input.dataset.name}\\+?\\}`), encodeURIComponent(input.value));
  }
  if ($("query").value) path += "?" + $("query").value;
  const body = $("body").value;
  const headers = body ? { "content-type": "application/json" } : {};
  try {
    const r = await api("/api/send", { api: a.key, method: route.method === "ANY" ? "GET" : route.method, path, token: $("token").value.trim().replace(/^Bearer\s+/i, ""), headers, body });
    $("response").textContent = `${r.status} (request ${r.id})\n${Object.entries(r.headers).map(([k, v]) => `${k}: ${v.join(", ")}`).join("\n")}\n\n${r.body}`;
  } catch (e) {
    $("response").textContent = "send failed: " + e.message;
  }
}

// --- Live request log --------------------------------------------------------

function statusClass(s) { return "s" + String(s).charAt(0); }

function matches(r) {
  const route = $("filter-route").value, status = $("filter-status").value;
  if (route && r.route !== route) return false;
  if (status === "refused") return r.decision === "deny";
  return !status || String(r.status).charAt(0) === status;
}

function rowFor(r) {
  const t = new Date(r.time);
  return el("tr", { dataset: { id: r.id, status: String(r.status), route: r.route, decision: r.decision || "" } },
    el("td", { class: "mono" }, t.toLocaleTimeString()),
    el("td", {}, r.api),
    el("td", { class: "mono" }, `${r.method} ${r.path}`),
    el("td", { class: "mono" }, r.route),
    el("td", { class: statusClass(r.status) }, String(r.status)),
    el("td", {}, r.latencyMs.toFixed(1)),
    el("td", { class: "reason" }, r.reason || ""));
}

// Records come in batches, drawn at most every DRAW_EVERY ms (a 500-row
// table laid out once per frame keeps the page busy at 1,000 requests a
// second): the page stays responsive, and keeps the last MAX_ROWS.
const DRAW_EVERY = 200;
function queue(r) {
  state.pending.push(r);
  if (state.pending.length === 1) setTimeout(() => requestAnimationFrame(flush), DRAW_EVERY);
}

function flush() {
  const batch = state.pending.splice(0);
  state.rows.push(...batch);
  if (state.rows.length > MAX_ROWS) state.rows.splice(0, state.rows.length - MAX_ROWS);
  const tbody = $("log").tBodies[0];
  // Only the newest MAX_ROWS of a burst are ever shown: draw only those.
  tbody.prepend(...batch.filter(matches).slice(-MAX_ROWS).reverse().map(rowFor));
  while (tbody.rows.length > MAX_ROWS) tbody.deleteRow(-1);
}

function redraw() {
  const tbody = $("log").tBodies[0];
  tbody.replaceChildren(...state.rows.filter(matches).reverse().map(rowFor));
}

function connect() {
  const es = new EventSource("/api/events");
  es.addEventListener("ready", () => { $("live").textContent = "live"; });
  es.addEventListener("record", (e) => queue(JSON.parse(e.data)));
  es.addEventListener("line", (e) => {
    const l = JSON.parse(e.data);
    if (l.id === state.detailId) $("lines").textContent += l.line + "\n";
  });
  es.onerror = () => { $("live").textContent = "reconnecting…"; };
}

async function showDetail(id) {
  let r;
  try { r = await api("/api/requests/" + encodeURIComponent(id)); } catch (e) { return; }
  state.detailId = id;
  $("detail").hidden = false;
  $("detail-id").textContent = id;
  const pre = (text, props = {}) => el("pre", props, text);
  const hdrs = (h) => Object.entries(h || {}).map(([k, v]) => `${k}: ${v.join(", ")}`).join("\n");
  const body = $("detail-body");
  body.replaceChildren(
    el("p", {}, el("b", {}, `${r.method} ${r.path}`), ` → ${r.route} · `, el("span", { class: statusClass(r.status) }, String(r.status)), ` · ${r.latencyMs.toFixed(1)} ms · ${r.auth || "public"}`),
    r.reason ? el("p", { class: "reason" }, "Why: " + r.reason) : "",
    r.aws ? el("div", { class: "aws" }, el("b", {}, "What API Gateway answers in AWS: "),
      pre(`${r.aws.status} ${r.aws.body}` + (r.aws.wwwAuthenticate ? `\nwww-authenticate: ${r.aws.wwwAuthenticate}` : "") + (r.aws.errorType ? `\nx-amzn-ErrorType: ${r.aws.errorType}` : ""))) : "",
    r.detail ? el("p", { class: "muted" }, "Gateway log: " + r.detail) : "",
    el("h3", {}, "Claims the handler received"), pre(r.claims ? JSON.stringify(r.claims, null, 2) : "none"),
    el("h3", {}, "Handler and authorizer output"), pre((r.lines || []).join("\n"), { id: "lines" }),
    el("h3", {}, "Request"), pre(hdrs(r.requestHeaders) + "\n\n" + (r.requestBody || "")),
    el("h3", {}, "Response"), pre(hdrs(r.responseHeaders) + "\n\n" + (r.responseBody || "")));
}

async function replay() {
  if (!state.detailId) return;
  try {
    const r = await api("/api/replay/" + encodeURIComponent(state.detailId), {});
    $("response").textContent = `${r.status} (request ${r.id}, sent again)\n\n${r.body}`;
  } catch (e) {
    $("response").textContent = "replay failed: " + e.message;
  }
}

async function main() {
  $("mint").addEventListener("click", mint);
  $("send").addEventListener("click", send);
  $("token").addEventListener("input", decode);
  $("send-route").addEventListener("change", renderParams);
  $("filter-route").addEventListener("change", redraw);
  $("filter-status").addEventListener("change", redraw);
  $("log").tBodies[0].addEventListener("click", (e) => { const tr = e.target.closest("tr"); if (tr) showDetail(tr.dataset.id); });
  $("replay").addEventListener("click", replay);
  $("close-detail").addEventListener("click", () => { $("detail").hidden = true; state.detailId = null; });
  setInterval(tick, 1000);
  [state.apis, state.issuer] = await Promise.all([api("/api/apis"), api("/api/issuer")]);
  renderAPIs();
  renderIssuer();
  connect();
  setInterval(async () => { state.apis = await api("/api/apis"); renderAPIs(); }, 10000);
}

main();
