// The offline shell: a service worker that keeps the page and the files it names, so the client
// starts without a network, and never touches live data. The rule (docs/decisions.md, "The web
// client on a phone, offline, installed"):
// - /api/… and /ws are never answered or stored here: they go to the network as if there were
//   no worker (a WebSocket never passes through a worker anyway);
// - the page (/) comes from the network whenever there is one; the copy kept is for offline only;
// - a file under its content hash (?v=…) is answered from the cache: that URL always names the
//   same bytes. It is stored only when the node served it as such (Cache-Control "immutable",
//   chat/transport/web.py), never when the hash was not the file's current one;
// - after each page that arrives, the cache is brought to exactly the files that page names, so
//   the kept page and the kept modules are always of one deploy and old versions go away.
const CACHE = "ecolink-shell";
const PAGE = "/";
// The files a page names: its stylesheet, module script, preloads, manifest and icons.
const NAMED = /\b(?:href|src)="(\/(?:src|vendor|icons)\/[^"]+|\/manifest\.webmanifest)"/g;

self.addEventListener("install", (event) => {
  event.waitUntil(fetch(PAGE).then((page) => page.ok && keep(page)).catch(() => {}));
  self.skipWaiting();
});

self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/api/") || url.pathname === "/ws") return; // live data: never
  if (request.mode === "navigate" && url.pathname === PAGE) {
    event.respondWith(page(event));
  } else if (url.searchParams.has("v")) {
    event.respondWith(versioned(request));
  } else if (url.pathname.startsWith("/icons/") || url.pathname === "/manifest.webmanifest") {
    event.respondWith(fetch(request).catch(() => fromCache(request)));
  }
});

async function page(event) {
  try {
    const response = await fetch(event.request);
    if (response.ok) event.waitUntil(keep(response.clone()).catch(() => {}));
    return response;
  } catch (offline) {
    return fromCache(PAGE);
  }
}

async function versioned(request) {
  const cache = await caches.open(CACHE);
  const kept = await cache.match(request);
  if (kept) return kept;
  const response = await fetch(request);
  if (immutable(response)) await cache.put(request, response.clone());
  return response;
}

async function fromCache(request) {
  const kept = await (await caches.open(CACHE)).match(request, { ignoreSearch: request === PAGE });
  return kept || Response.error();
}

const immutable = (response) => response.ok && /\bimmutable\b/.test(response.headers.get("cache-control") || "");

// Keeps this page and exactly the files it names.
async function keep(response) {
  const cache = await caches.open(CACHE);
  const text = await response.clone().text();
  const named = new Set([...text.matchAll(NAMED)].map((m) => new URL(m[1].replaceAll("&amp;", "&"), self.location.origin).href));
  await Promise.all([...named].map(async (url) => {
    if (await cache.match(url)) return;
    const file = await fetch(url);
    if (immutable(file) || (file.ok && !new URL(url).searchParams.has("v"))) await cache.put(url, file);
  }));
  await cache.put(PAGE, response);
  const page = new URL(PAGE, self.location.origin).href;
  for (const request of await cache.keys()) {
    if (request.url !== page && !named.has(request.url)) await cache.delete(request);
  }
}
