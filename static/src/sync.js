/* Sends the device queue (static/src/queue.js loads this file when records wait, and at logout):
   one run at a time, records in order, a fresh CSRF token per run, retries with backoff when the
   network or the server fails, a refused record (422) set aside with its errors. A refused or still
   failing shift holds its own contacts back, never the others. Logout warns, then clears the device. */
(function () {
  "use strict";
  var W = window, Q = W.outreachQueue, I = Q._, S = Q.status(), running, again, timer, delay = 0;
  var LOGOUT = I.en ? "%n record(s) not sent yet will be erased from this device. Log out anyway?"
    : "%n enregistrement(s) pas encore envoyé(s) seront effacés de cet appareil. Se déconnecter quand même ?";
  function nothing() {}
  function sync(online) {  // a call during a run asks for one more run; the promise covers it
    if (online) delay = 0;  // back online: the backoff starts again
    if (running) { again = true; return running; }
    running = run().then(function () {
      running = null;
      if (again) { again = false; return sync(); }
    }, function (e) { running = null; throw e; });
    return running;
  }
  function run() {
    return Q.all().then(function (records) {
      var todo = I.waiting(records);
      if (!todo.length || !navigator.onLine) return todo.length;
      return fetch("/file-attente/jeton", { credentials: "same-origin", redirect: "manual" }).then(function (r) {
        S.auth = r.type == "opaqueredirect" || r.status == 401 || r.status == 403;
        return r.ok ? r.json().then(function (j) { return drain(todo, j.csrf_token, records); }) : 1;
      }, function () { return 1; });
    }).then(function (failed) {
      Q.render();
      clearTimeout(timer);
      delay = failed ? Math.min(delay * 2 || 2000, 3e5) : 0;
      if (failed) timer = setTimeout(sync, delay + Math.random() * 1e3);
    });
  }
  function drain(todo, token, records) {
    var blocked = {}, failed = 0;
    records.forEach(function (r) { if (r.type == "shift" && r.state == "refused") blocked[r.id] = 1; });
    return todo.reduce(function (prev, rec) {
      return prev.then(function (stop) {
        if (stop || (rec.type != "shift" && blocked[rec.shiftId])) return stop;
        S.sending[rec.seq] = 1;
        Q.render();
        return I.post(rec.url, rec.body, token).then(function (res) {
          var s = res.status;
          delete S.sending[rec.seq];
          if (s > 199 && s < 300) {
            S.sent.push(rec.label);
            S.sent.splice(0, S.sent.length - 20);
            return Q.remove(rec.seq).then(nothing);
          }
          if (!s || s == 401 || res.login) { S.auth = !!s || res.login; failed = 1; return 1; }  // stop: offline or logged out
          rec.errors = I.refusal(res);
          if (!rec.errors) { failed = blocked[rec.id] = blocked[rec.shiftId] = 1; return 0; }  // retry later
          if (rec.type == "shift") blocked[rec.id] = 1;
          rec.state = "refused";
          return Q.put(rec).then(nothing);
        });
      });
    }, Promise.resolve()).then(function () { return failed; });
  }
  function clear() {  // the queue database and the caches (pages visited while logged in)
    clearTimeout(timer);
    return Promise.all([
      Promise.resolve(I.close()).catch(nothing).then(function () {
        return new Promise(function (ok) {
          var r = indexedDB.deleteDatabase("outreach-queue");
          r.onsuccess = r.onerror = r.onblocked = ok;
        });
      }),
      W.caches && caches.keys().then(function (keys) {
        return Promise.all(keys.filter(function (k) { return !k.indexOf("outreach-"); }).map(function (k) { return caches.delete(k); }));
      })
    ]);
  }
  function logout(form) {  // send what can be sent, warn about the rest, then clear the device
    (navigator.onLine ? sync().catch(nothing) : Promise.resolve()).then(Q.all).then(function (records) {
      var left = records.filter(function (r) { return r.user == Q.user; }).length;
      if (!left || confirm(LOGOUT.replace("%n", left))) return clear().then(function () { form.submit(); });
    });
  }
  W.outreachSync = { sync: sync, logout: logout, clear: clear };
})();
