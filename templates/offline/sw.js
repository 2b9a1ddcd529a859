/* outreach service worker (root scope). Version changes whenever a static file changes.
   Queued records are in IndexedDB (static/src/queue.js), never in these caches:
   an update replaces the shell cache and keeps every queued record. */
"use strict";
var VERSION = {{ version|tojson }};
var SHELL = "outreach-shell-" + VERSION;
var PAGES = "outreach-pages";  // pages and reference data, refreshed on each visit, cleared at logout
var STATIC_URLS = {{ static_urls|tojson }}.filter(function (u) { return u.indexOf("/static/src/") < 0; });  // readable sources of static/js
var SHELL_URLS = {{ shell_urls|tojson }};
var OFFLINE_URL = {{ url_for("offline.page")|tojson }};
var WARM_EXTRA = ["/api/v1/reference"];

function cacheIfOk(cacheName, request, response) {
  if (response && response.ok && response.type === "basic" && !response.redirected) {
    var copy = response.clone();
    caches.open(cacheName).then(function (c) { return c.put(request, copy); });
  }
  return response;
}

function warm(urls) {
  return caches.open(PAGES).then(function (cache) {
    return Promise.all(urls.map(function (url) {
      // marked: the server leaves the session cookie alone, so a warm answer landing after a logout cannot undo it
      return fetch(url, { credentials: "same-origin", redirect: "manual", headers: { "X-Outreach-Warm": "1" } })
        .then(function (r) { if (r.ok && r.type === "basic") return cache.put(url, r); })
        .catch(function () { return null; });
    }));
  });
}

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL).then(function (cache) {
    return cache.addAll(STATIC_URLS);
  }).then(function () { return warm(SHELL_URLS); }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) {
      return k.indexOf("outreach-shell-") === 0 && k !== SHELL;
    }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type === "version" && event.ports[0]) {
    event.ports[0].postMessage(VERSION);
  }
});

// When a signed-in user (<body data-user>) opens a logging page (SHELL_URLS), cache the pages of the
// menu, the shell pages and the reference data for offline use; once per user until logout clears
// the caches. Other pages (dashboards, admin) do not trigger it: offline use is for the field.
function warmFrom(response) {
  return response.clone().text().then(function (html) {
    var user = /<body data-user="([^"]+)"/.exec(html), nav = /<nav[\s\S]*?<\/nav>/.exec(html);
    if (!user) return;
    var marker = "/__warm__/" + user[1], links = (nav ? nav[0].match(/href="\/[^"]*"/g) || [] : [])
      .map(function (h) { return h.slice(6, -1).replace(/&amp;/g, "&"); });
    return caches.open(PAGES).then(function (cache) {
      return cache.match(marker).then(function (done) {
        if (done) return;
        return cache.put(marker, new Response("")).then(function () {
          return warm(links.concat(SHELL_URLS, WARM_EXTRA));
        });
      });
    });
  }).catch(function () { return null; });
}

function navigate(request, event) {
  return fetch(request).then(function (response) {
    var shell = SHELL_URLS.indexOf(new URL(request.url).pathname) >= 0;
    if (shell && response.ok && response.type === "basic") event.waitUntil(warmFrom(response));
    return cacheIfOk(PAGES, request, response);
  }).catch(function () {
    return caches.match(request, { ignoreSearch: true }).then(function (hit) {
      if (hit) return hit;  // else the offline page, signed-in version (see warmFrom) first
      return caches.open(PAGES).then(function (c) { return c.match(OFFLINE_URL); })
        .then(function (page) { return page || caches.match(OFFLINE_URL); });
    });
  });
}

function staticFile(request) {
  return caches.match(request, { ignoreSearch: true }).then(function (hit) {
    return hit || fetch(request).then(function (r) { return cacheIfOk(SHELL, request, r); });
  });
}

function networkFirst(request) {
  return fetch(request).then(function (r) { return cacheIfOk(PAGES, request, r); })
    .catch(function () { return caches.match(request); });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;  // POSTs go to the network; the page queues them on failure
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    event.respondWith(navigate(request, event));
  } else if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(staticFile(request));
  } else if (url.pathname.indexOf("/api/v1/reference") === 0) {
    event.respondWith(networkFirst(request));
  }
});
