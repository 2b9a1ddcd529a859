/* Sends the device queue (static/src/queue.js loads this file when records wait, and at logout):
   one run at a time on the device (a Web Lock shared by every tab), records in order, a fresh CSRF
   token per run, each request timed out and retried with backoff when the network or the server fails,
   a refused record (4xx) set aside with its errors. A refused or still failing shift holds its own
   contacts back, never the others. A record the server has is scrubbed (its digest overwritten), then
   deleted. Logout warns, then erases this user's records only: other users' records stay for them. */
(function () {
  "use strict";
  var win = window, queue = win.outreachQueue, internals = queue._, state = queue.status(), running, again, timer, delay = 0;
  var LOGOUT = internals.en ? "%n record(s) not sent yet will be erased from this device. Log out anyway?"
    : "%n enregistrement(s) pas encore envoyé(s) seront effacés de cet appareil. Se déconnecter quand même ?";
  function nothing() {}
  function sync(online) {  // a call during a run asks for one more run; the promise covers it
    if (online) delay = 0;  // back online: the backoff starts again
    if (running) { again = true; return running; }
    running = locked(run).then(function () {
      running = null;
      if (again) { again = false; return sync(); }
    }, function (e) { running = null; throw e; });
    return running;
  }
  function locked(fn) {  // one tab sends at a time; the next one then finds what is left
    return navigator.locks ? navigator.locks.request("outreach-sync", fn) : fn();
  }
  function run() {
    return queue.all().then(function (records) {
      var todo = internals.waiting(records);
      if (!todo.length || !navigator.onLine) return todo.length;
      return internals.request("/file-attente/jeton", { headers: { Accept: "application/json" } }).then(function (r) {
        state.auth = r.login || r.status == 401 || r.status == 403;
        return r.status == 200 && r.json.csrf_token ? drain(todo, r.json.csrf_token, records) : 1;
      });
    }).then(function (failed) {
      queue.render();
      clearTimeout(timer);
      delay = failed ? Math.min(delay * 2 || 2000, 3e5) : 0;
      if (failed) timer = setTimeout(sync, delay + Math.random() * 1e3);
    });
  }
  function forget(seq) {  // overwrite the stage-1 digest, then delete: the digest does not outlive the send
    return internals.tx("readwrite", function (s) {
      var req = s.get(seq);
      req.onsuccess = function () {
        var rec = req.result, person = rec && rec.body.person;
        if (person && person.digest) {
          person.digest = new Array(65).join("0");
          s.put(rec);
        }
        s.delete(seq);
      };
      return req;
    });
  }
  function refuse(rec, errors) {  // only the version this run sent: a fix typed meanwhile is never overwritten
    return queue.update(rec.seq, function (r) {
      if (r.v !== rec.v) return false;
      r.state = "refused";
      r.errors = errors;
    });
  }
  function drain(todo, token, records) {
    var blocked = {}, failed = 0;
    records.forEach(function (r) { if (r.type == "shift" && r.state == "refused") blocked[r.id] = 1; });
    return todo.reduce(function (prev, rec) {
      return prev.then(function (stop) {
        if (stop || (rec.type != "shift" && blocked[rec.shiftId])) return stop;
        state.sending[rec.seq] = 1;
        queue.render();
        return internals.post(rec.url, rec.body, token, rec.clock).then(function (res) {
          var s = res.status, errors;
          delete state.sending[rec.seq];
          if (s > 199 && s < 300) {
            state.sent.push(rec.label);
            state.sent.splice(0, state.sent.length - 20);
            return forget(rec.seq).then(nothing);
          }
          if (!s || s == 401 || res.login) { state.auth = !!s || res.login; failed = 1; return 1; }  // stop: offline or logged out
          errors = internals.refusal(res);
          if (!errors) { failed = blocked[rec.id] = blocked[rec.shiftId] = 1; return 0; }  // retry later
          if (rec.type == "shift") blocked[rec.id] = 1;
          return refuse(rec, errors).then(nothing);
        });
      });
    }, Promise.resolve()).then(function () { return failed; });
  }
  function mine(records) { return records.filter(function (r) { return r.user == queue.user; }); }
  function clear() {  // this user's records and the caches (pages visited while logged in); others' records stay
    clearTimeout(timer);
    return Promise.all([
      queue.all().then(function (records) { return Promise.all(mine(records).map(function (r) { return forget(r.seq); })); }),
      win.caches && caches.keys().then(function (keys) {
        return Promise.all(keys.filter(function (k) { return !k.indexOf("outreach-"); }).map(function (k) { return caches.delete(k); }));
      })
    ]);
  }
  function logout(form) {  // send what can be sent, warn about the rest, then clear this user's part of the device
    (navigator.onLine ? sync().catch(nothing) : Promise.resolve()).then(queue.all).then(function (records) {
      var left = mine(records).length;
      if (!left || confirm(LOGOUT.replace("%n", left))) return clear().then(function () { form.submit(); });
    });
  }
  win.outreachSync = { sync: sync, logout: logout, clear: clear };
})();
