/* Lokus service worker: the field pages keep working when the mobile signal drops.
   Served by lokus.views.pwa.service_worker at /sw.js, which puts self.LOKUS (the shell's
   URLs, the field-page patterns, the version) in front of this file. No inline code, no
   eval: the Content-Security-Policy of the site applies here too.

   - The app shell (CSS, JS, icons, the offline page) is kept at install: cache first.
   - Field pages (/tugas/, /tugas/<id>/ and its form pages): network first; a copy of each
     is kept in a cache of the signed-in user's own ("lokus-pages-u<id>", the id read from
     the page's <meta name="lokus-user">), stamped with the time it was fetched. Offline,
     only the current user's copies are served. Nothing else is ever stored, and no POST.
   - Background Sync "outbox": sends the phone's outbox (static/js/outbox.js) when the
     signal returns, even with no Lokus page open. */
/* global LokusOutbox */
"use strict";

const CONFIG = self.LOKUS;
const SHELL = "lokus-shell-" + CONFIG.version;
const PAGES = "lokus-pages-u";
const PAGE_PATTERNS = CONFIG.pages.map((source) => new RegExp(source));
const SHELL_PATHS = new Set(CONFIG.shell.concat([CONFIG.offline]));
// On a weak signal, after this long the kept copy is shown while the network goes on.
const NETWORK_TIMEOUT_MS = 10000;

importScripts.apply(self, CONFIG.scripts);
LokusOutbox.configure({ session: CONFIG.session, login: CONFIG.login });

function isFieldPage(url) {
  return url.origin === self.location.origin && PAGE_PATTERNS.some((pattern) => pattern.test(url.pathname));
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(SHELL).then((cache) => cache.addAll(Array.from(SHELL_PATHS))).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith("lokus-shell-") && n !== SHELL).map((n) => caches.delete(n))))
      .then(() => self.clients.claim())
  );
});

// Pages ---------------------------------------------------------------------------------------

async function currentUser() {
  return LokusOutbox.getMeta("user");
}

/* Keep a copy of a field page for the user it was made for, stamped with the time it was
   fetched (the page shows "offline - data as of <time>" when it is served from here). */
async function keepPage(url, response) {
  const type = response.headers.get("Content-Type") || "";
  if (response.status !== 200 || response.redirected || response.type !== "basic" || !type.startsWith("text/html")) {
    return;
  }
  const html = await response.text();
  const user = (html.match(/<meta name="lokus-user" content="(\d+)">/) || [])[1];
  if (!user) {
    return;
  }
  await LokusOutbox.setMeta("user", user);
  const stamped = html
    .replace(/<head([^>]*)>/, (head) => head + '\n  <meta name="lokus-cached-at" content="' + new Date().toISOString() + '">')
    // The messages of the moment ("note saved") are not part of the page.
    .replace(/<ul class="messages">[\s\S]*?<\/ul>/, "");
  const headers = new Headers(response.headers);
  headers.delete("Content-Length");
  headers.delete("Content-Encoding");
  const cache = await caches.open(PAGES + user);
  await cache.put(url, new Response(stamped, { status: 200, statusText: "OK", headers: headers }));
}

async function keptPage(url) {
  const user = await currentUser();
  if (!user) {
    return undefined;
  }
  const cache = await caches.open(PAGES + user);
  return cache.match(url);
}

async function offlinePage() {
  const cache = await caches.open(SHELL);
  return (await cache.match(CONFIG.offline)) || Response.error();
}

function networkFirst(event) {
  const url = event.request.url.split("#")[0];
  const network = fetch(event.request).then((response) => {
    event.waitUntil(keepPage(url, response.clone()).catch(() => undefined));
    return response;
  });
  return new Promise((resolve) => {
    let answered = false;
    const answer = (response) => {
      if (!answered) {
        answered = true;
        resolve(response);
      }
    };
    const timer = setTimeout(() => {
      keptPage(url).then((kept) => kept && answer(kept));
    }, NETWORK_TIMEOUT_MS);
    network.then(
      async (response) => {
        clearTimeout(timer);
        // A server error at the edge of the network (502/503/504): the copy is better.
        answer(response.status >= 500 ? (await keptPage(url)) || response : response);
      },
      async () => {
        clearTimeout(timer);
        answer((await keptPage(url)) || (await offlinePage()));
      }
    );
  });
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") {
    return;
  }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (request.mode === "navigate") {
    if (isFieldPage(url)) {
      event.respondWith(networkFirst(event));
    }
    return;
  }
  if (SHELL_PATHS.has(url.pathname + url.search)) {
    event.respondWith(caches.open(SHELL).then((cache) => cache.match(request)).then((hit) => hit || fetch(request)));
  }
});

// Messages from the pages -----------------------------------------------------------------------

async function keepPages(urls, missingOnly) {
  const user = await currentUser();
  const cache = user ? await caches.open(PAGES + user) : null;
  for (const address of urls) {
    const url = new URL(address, self.location.origin);
    if (!isFieldPage(url) || (missingOnly && cache && (await cache.match(url.href)))) {
      continue;
    }
    try {
      const response = await fetch(url.href, { credentials: "same-origin" });
      await keepPage(url.href, response);
    } catch (error) {
      return; // offline: try again on the next visit
    }
  }
}

async function forget(user) {
  await caches.delete(PAGES + user);
  if ((await currentUser()) === String(user)) {
    await LokusOutbox.setMeta("user", null);
  }
}

async function tellPages(message) {
  const pages = await self.clients.matchAll({ type: "window" });
  pages.forEach((page) => page.postMessage(message));
}

async function send() {
  const result = await LokusOutbox.flush();
  await tellPages({ type: "outbox", result: result });
  return result;
}

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "keep") {
    event.waitUntil(keepPages(data.urls || [], Boolean(data.missingOnly)));
  } else if (data.type === "forget" && data.user) {
    event.waitUntil(forget(data.user));
  } else if (data.type === "flush") {
    event.waitUntil(send());
  }
});

self.addEventListener("sync", (event) => {
  if (event.tag === "outbox") {
    event.waitUntil(
      send().then((result) => {
        // Still no network: a rejected sync is tried again later by the browser.
        if (result === "offline") {
          throw new Error("outbox: still offline");
        }
      })
    );
  }
});
