/* outreach, every page. Forms work as plain POST without this file. With it, a form with data-api
   posts JSON to the idempotent API through a queue in IndexedDB: when the network fails the record
   waits on the device (the stage-1 digest only, never the code inputs) and is sent when the network
   returns. Order is kept (a shift before its contacts); a refused record (422) is set aside with its
   errors and never blocks the others. Also: data-confirm on forms, logout that clears the device. */
(function () {
  "use strict";
  var W = window, D = document, nav = navigator;
  D.addEventListener("submit", function (ev) {
    var msg = ev.target.getAttribute("data-confirm");
    if (msg && !confirm(msg)) ev.preventDefault();
  });
  if (!W.indexedDB || !W.fetch) return;
  if (nav.serviceWorker) nav.serviceWorker.register("/sw.js").catch(Boolean);
  var user = D.body.getAttribute("data-user"), EN = D.documentElement.lang == "en";
  var T = EN ? {
    pending: "%n pending", refused: "%n refused", relogin: "log in again to send", saved: "Contact saved.",
    queued: "No network: saved on this device, it will be sent automatically.",
    logout: "%n record(s) not sent yet will be erased from this device. Log out anyway?",
    contact: "Contact", shift: "Shift start", close: "Shift end"
  } : {
    pending: "%n en attente", refused: "%n refusé(s)", relogin: "reconnectez-vous pour envoyer",
    saved: "Contact enregistré.",
    queued: "Pas de réseau : enregistré sur l'appareil, l'envoi se fera automatiquement.",
    logout: "%n enregistrement(s) pas encore envoyé(s) seront effacés de cet appareil. Se déconnecter quand même ?",
    contact: "Contact", shift: "Début de maraude", close: "Fin de maraude"
  };

  // --- IndexedDB: one store of records, keyed by an increasing seq (the order) ---------------
  var dbp, wiped;
  function tx(mode, fn) {
    if (wiped) return Promise.reject(Error("device cleared"));
    dbp = dbp || new Promise(function (ok, ko) {
      var r = indexedDB.open("outreach-queue", 1);
      r.onupgradeneeded = function () { r.result.createObjectStore("records", { keyPath: "seq", autoIncrement: true }); };
      r.onsuccess = function () { ok(r.result); };
      r.onerror = function () { ko(r.error); };
    });
    return dbp.then(function (db) {
      return new Promise(function (ok, ko) {
        var t = db.transaction("records", mode), req = fn(t.objectStore("records"));
        t.oncomplete = function () { ok(req.result); };
        t.onerror = t.onabort = function () { ko(t.error); };
      });
    });
  }
  function all() { return tx("readonly", function (s) { return s.getAll(); }); }
  function put(rec) { return tx("readwrite", function (s) { return s.put(rec); }); }
  function remove(seq) { return tx("readwrite", function (s) { return s.delete(seq); }); }
  function add(type, url, body, label) {
    var rec = { id: body.id, type: type, url: url, body: body, user: user, label: label || "", state: "queued",
                shiftId: type == "shift" ? body.id : body.shift_id };
    return put(rec).then(function (seq) { rec.seq = seq; render(); return rec; });
  }
  function nothing() {}
  function uuid() {
    return crypto.randomUUID ? crypto.randomUUID() : "10000000-1000-4000-8000-100000000000".replace(/[018]/g, function (c) {
      return (c ^ crypto.getRandomValues(new Uint8Array(1))[0] & 15 >> c / 4).toString(16);
    });
  }

  // --- sync: one run at a time, in order, retried with backoff -------------------------------
  var running, again, timer, delay = 0, auth, sending = {}, sent = [], results = {};
  function sync() {  // a call during a run asks for one more run; the promise covers it
    if (running) { again = true; return running; }
    running = run().then(function () {
      running = null;
      if (again) { again = false; return sync(); }
    }, function (e) { running = null; throw e; });
    return running;
  }
  function run() {
    return all().then(function (records) {
      var todo = records.filter(function (r) { return r.user == user && r.state != "refused"; });
      if (!todo.length || !nav.onLine) return todo.length;
      return fetch("/file-attente/jeton", { credentials: "same-origin", redirect: "manual" }).then(function (r) {
        auth = r.type == "opaqueredirect" || r.status == 401 || r.status == 403;
        return r.ok ? r.json().then(function (j) { return drain(todo, j.csrf_token, records); }) : 1;
      }, function () { return 1; });
    }).then(function (failed) {
      render();
      clearTimeout(timer);
      delay = failed ? Math.min(delay * 2 || 2000, 3e5) : 0;
      if (failed) timer = setTimeout(sync, delay + Math.random() * 1e3);
    });
  }
  function send(rec, token) {
    return fetch(rec.url, { method: "POST", credentials: "same-origin", redirect: "manual", body: JSON.stringify(rec.body),
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": token } })
      .then(function (r) {
        return r.json().catch(Object).then(function (j) { return { status: r.status, login: r.type == "opaqueredirect", json: j }; });
      }, function () { return { status: 0 }; });
  }
  function drain(todo, token, records) {
    var blocked = {}, failed = 0;  // a refused or failing shift holds its contacts back
    records.forEach(function (r) { if (r.type == "shift" && r.state == "refused") blocked[r.id] = 1; });
    return todo.reduce(function (prev, rec) {
      return prev.then(function (stop) {
        if (stop || (rec.type != "shift" && blocked[rec.shiftId])) return stop;
        sending[rec.seq] = 1;
        render();
        return send(rec, token).then(function (res) {
          var s = res.status;
          delete sending[rec.seq];
          results[rec.id] = res;
          if (s > 199 && s < 300) {
            sent = sent.concat(rec.label).slice(-20);
            return remove(rec.seq).then(nothing);
          }
          if (!s || s == 401 || res.login) { auth = s == 401 || res.login; failed = 1; return 1; }  // stop here
          if ([403, 404, 409, 422].indexOf(s) < 0) { failed = blocked[rec.id] = blocked[rec.shiftId] = 1; return 0; }
          if (rec.type == "shift") blocked[rec.id] = 1;
          rec.state = "refused";
          rec.errors = res.errors = res.json.errors || { _: res.json.error || String(s) };
          return put(rec).then(nothing);
        });
      });
    }, Promise.resolve()).then(function () { return failed; });
  }

  // --- API bodies from the forms -------------------------------------------------------------
  function val(fd, name) { var v = fd.get(name); return v === null || v === "" ? undefined : "" + v; }
  function num(v) { return v && parseInt(v, 10); }
  function iso(v) {  // "HH:MM" typed today (or last night, when it is in the future), else now
    var now = new Date(), d = new Date(now), hm = /^(\d\d?):(\d\d)$/.exec(v || "");
    if (hm) {
      d.setHours(hm[1], hm[2], 0, 0);
      if (d - now > 36e5) d.setDate(d.getDate() - 1);
    }
    return d.toISOString().replace(/\.\d+Z/, "Z");
  }
  function each(form, prefix, fn) {  // fields named prefix + code that are filled or checked
    var out = [];
    [].forEach.call(form.elements, function (el) {
      if (el.name.indexOf(prefix) || el.disabled || (/radio|checkbox/.test(el.type) && !el.checked)) return;
      var r = fn(el.name.slice(prefix.length), el);
      if (r !== undefined) out.push(r);
    });
    return out;
  }
  function qty(form, prefix) {
    var m = {};
    each(form, prefix, function (code, el) { if (el.value > 0) m[code] = +el.value; });
    return m;
  }
  var BODY = {
    contact: function (f, fd) {
      var digest = val(fd, "kind") == "known" && val(fd, "digest");  // set by log.js
      return {
        id: val(fd, "id"), shift_id: val(fd, "shift_id"), occurred_at: iso(val(fd, "occurred_at")),
        sector: val(fd, "sector"), kind: val(fd, "kind"), person: digest ? { digest: digest, weak: !!val(fd, "is_weak") } : undefined,
        people_count: num(val(fd, "people_count")), sex: val(fd, "sex"), age_band: val(fd, "age_band"),
        living_situation: val(fd, "living_situation"), products: fd.getAll("products"), needs: fd.getAll("needs"),
        materials: qty(f, "material-"), referrals: each(f, "referral-", function (code) { return { programme: code }; }),
        orientations: each(f, "orientation-", function (code) {
          var acc = f.elements["accompanied-" + code];
          return { destination: code, accompanied: !!(acc && acc.checked) };
        })
      };
    },
    shift: function (f, fd) {
      return { id: val(fd, "id"), team: val(fd, "team"), started_at: iso(val(fd, "started_at")), sectors: fd.getAll("sectors"),
               staff_count: num(val(fd, "staff_count")), stock_out: qty(f, "stock_out-") };
    },
    close: function (f, fd) {
      var n = function (name) { return num(val(fd, name)) || 0; };
      return { ended_at: iso(val(fd, "ended_at")), ambiance: val(fd, "ambiance"), police_presence: !!val(fd, "police_presence"),
               unapproached: { f: n("unapproached_women"), m: n("unapproached_men"), x: n("unapproached_other") },
               used_material_collected: num(val(fd, "used_material_collected")), stock_back: qty(f, "stock_back-") };
    }
  };
  var TYPES = { "contact-form": "contact", "shift-form": "shift", "shift-close-form": "close" };

  // --- the forms -----------------------------------------------------------------------------
  function notice(form, text, bad) {
    var p = form.previousElementSibling;
    if (!p || !p.classList.contains("offline-notice")) form.before(p = D.createElement("p"));
    p.className = "flash offline-notice flash-" + (bad ? "error" : "success");
    p.setAttribute("role", bad ? "alert" : "status");
    p.textContent = text;
  }
  function clearErrors(form) {
    form.querySelectorAll(".js-error").forEach(function (e) { e.remove(); });
  }
  function showErrors(form, errors) {
    clearErrors(form);
    notice(form, Object.keys(errors).map(function (name) {
      var msg = [].concat(errors[name]).join(" "), el = form.elements[name] || form.elements[name + "_id"], p;
      if (el && !el.tagName) el = el[0];  // radio buttons
      if (el) {
        p = D.createElement("p");
        p.className = "field-error js-error";
        p.textContent = msg;
        (el.closest("fieldset,.field,label") || el).append(p);
      }
      return msg;
    }).join(" "), true);
  }
  function reset(form) {
    clearErrors(form);
    form.reset();
    var el = form.elements;
    if (el.id) el.id.value = uuid();
    if (el.digest) el.digest.value = el.is_weak.value = "";
  }
  function emit(form, name, detail) {  // for log.js: outreach:saved, outreach:queued
    form.dispatchEvent(new CustomEvent("outreach:" + name, { bubbles: true, detail: detail }));
  }
  function label(type, b) {
    var time = new Date(b.occurred_at || b.started_at || b.ended_at)
      .toLocaleTimeString(EN ? "en-GB" : "fr-FR", { hour: "2-digit", minute: "2-digit" });
    return [T[type], time, b.sector || (b.sectors || []).join(", ")].filter(Boolean).join(" · ");
  }
  function save(form, type) {
    var el = form.elements;
    if (el.id && !el.id.value && type != "close") el.id.value = uuid();
    var body = BODY[type](form, new FormData(form));
    if (type != "close") body.id = body.id || uuid();  // a retry reuses it: idempotent
    return add(type, form.getAttribute("data-api"), body, label(type, body)).then(function (rec) {
      return sync().then(function () {  // sent now unless offline or behind earlier records
        var res = results[rec.id] || {}, s = res.status;
        if (s > 199 && s < 300) {
          if (type != "contact") return location.reload();
          notice(form, T.saved);
          reset(form);
          return emit(form, "saved", res.json);
        }
        if (res.errors) return remove(rec.seq).then(function () { render(); showErrors(form, res.errors); });
        notice(form, T.queued);
        reset(form);
        emit(form, "queued", body);
      });
    });
  }
  function clearDevice() {
    wiped = 1;
    clearTimeout(timer);
    return Promise.all([
      (dbp || Promise.resolve()).then(function (db) { if (db) db.close(); }).catch(Boolean).then(function () {
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
    (nav.onLine ? sync().catch(Boolean) : Promise.resolve()).then(all).then(function (records) {
      var left = records.filter(function (r) { return r.user == user; }).length;
      if (!left || confirm(T.logout.replace("%n", left))) return clearDevice().then(function () { form.submit(); });
    });
  }
  D.addEventListener("submit", function (ev) {
    var form = ev.target, type = TYPES[form.getAttribute("id")] || form.getAttribute("data-queue");
    if (ev.defaultPrevented || !user) return;
    if (form.getAttribute("id") == "logout-form") { ev.preventDefault(); return logout(form); }
    if (!BODY[type] || !form.getAttribute("data-api")) return;
    ev.preventDefault();
    save(form, type).catch(function () { if (nav.onLine) form.submit(); });  // last resort: the plain POST
  });

  // --- status in the header ("N en attente"), the queue page draws the rest -------------------
  var drawing;
  function render() {
    drawing = drawing || setTimeout(function () { drawing = 0; all().then(draw, Boolean); }, 50);
  }
  function draw(records) {
    var own = records.filter(function (r) { return r.user == user; }), parts = [], box = D.getElementById("sync-status");
    var refused = own.filter(function (r) { return r.state == "refused"; }).length;
    if (own.length > refused) parts.push(T.pending.replace("%n", own.length - refused));
    if (refused) parts.push(T.refused.replace("%n", refused));
    if (auth && own.length) parts.push(T.relogin);
    if (box) {
      box.hidden = !parts.length;
      box.className = "sync" + (refused || auth ? " error" : " pending");
      box.innerHTML = '<a href="/file-attente"></a>';
      box.firstChild.textContent = parts.join(" · ");
    }
    if (W.outreachQueuePage) W.outreachQueuePage.draw(records);
  }

  W.outreachQueue = { add: add, all: all, put: put, remove: remove, sync: sync, render: render, clear: clearDevice,
    uuid: uuid, user: user, status: function () { return { sending: sending, sent: sent }; } };
  if (!user) return;
  ["contact-form", "shift-form"].forEach(function (id) {  // a page served from the cache must not reuse an id
    var form = D.getElementById(id);
    if (form && form.elements.id) form.elements.id.value = uuid();
  });
  W.addEventListener("online", function () { delay = 0; sync(); });
  W.addEventListener("offline", render);
  if (nav.onLine && nav.serviceWorker && !sessionStorage.getItem("outreach-warm")) {
    nav.serviceWorker.ready.then(function (reg) {  // pages of the menu, for offline use
      var urls = [].map.call(D.querySelectorAll("header nav a,[data-offline-warm]"), function (a) { return a.getAttribute("href"); });
      if (reg.active) reg.active.postMessage({ type: "warm", urls: urls.concat("/file-attente", "/hors-ligne") });
      sessionStorage.setItem("outreach-warm", 1);
    });
  }
  sync();
})();
