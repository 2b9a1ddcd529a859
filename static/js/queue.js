/* outreach offline queue: forms keep working as plain POST; with this file a submit goes to the
   JSON API, and when the network fails the record waits in IndexedDB (stage-1 digest only, never
   the pseudonym inputs) until the network returns. Order is kept (a shift before its contacts);
   a record refused with 422 is set aside with its errors and never blocks the others. */
(function () {
  "use strict";
  if (!("indexedDB" in window) || !window.fetch || !window.Promise) return;
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () { return null; });
  }
  var user = document.body.getAttribute("data-user");
  var EN = document.documentElement.lang === "en";
  var T = EN ? {
    pending: "%n pending", refused: "%n refused", relogin: "log in again to send",
    savedOffline: "No network: saved on this device, it will be sent automatically.",
    saved: "Saved.",
    logout: "%n record(s) not sent yet will be erased from this device. Log out anyway?", contact: "Contact", shift: "Shift start", close: "Shift end", known: "Known: last seen on %d by %t", first: "First contact."
  } : {
    pending: "%n en attente", refused: "%n refusé(s)", relogin: "reconnectez-vous pour envoyer",
    savedOffline: "Pas de réseau : enregistré sur l'appareil, l'envoi se fera automatiquement.",
    saved: "Enregistré.",
    logout: "%n enregistrement(s) pas encore envoyé(s) seront effacés de cet appareil. Se déconnecter quand même ?", contact: "Contact", shift: "Début de maraude", close: "Fin de maraude", known: "Personne connue : vue le %d par %t", first: "Premier contact."
  };

  // --- IndexedDB ---------------------------------------------------------------------------
  var dbPromise = null, wiped = false;
  function openDb() {
    if (wiped) return Promise.reject(new Error("device cleared"));
    if (dbPromise) return dbPromise;
    dbPromise = new Promise(function (resolve, reject) {
      var req = indexedDB.open("outreach-queue", 1);
      req.onupgradeneeded = function () { req.result.createObjectStore("records", { keyPath: "seq", autoIncrement: true }); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
    return dbPromise;
  }
  function store(mode, fn) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction("records", mode), result;
        var req = fn(tx.objectStore("records"));
        if (req) req.onsuccess = function () { result = req.result; };
        tx.oncomplete = function () { resolve(result); };
        tx.onerror = tx.onabort = function () { reject(tx.error); };
      });
    });
  }
  function all() { return store("readonly", function (s) { return s.getAll(); }); }
  function put(rec) { return store("readwrite", function (s) { return s.put(rec); }); }
  function remove(seq) { return store("readwrite", function (s) { return s.delete(seq); }); }

  function add(type, url, body, label) {
    var rec = { id: body.id, type: type, url: url, body: body, user: user, label: label || "",
                shiftId: type === "shift" ? body.id : body.shift_id, state: "queued", attempts: 0,
                createdAt: new Date().toISOString() };
    markUsed(body.id);
    return put(rec).then(function (seq) { rec.seq = seq; render(); return rec; });
  }

  // --- ids -------------------------------------------------------------------------------
  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16)), h = [];
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    for (var i = 0; i < 16; i++) h.push((b[i] + 256).toString(16).slice(1));
    return h.slice(0, 4).join("") + "-" + h.slice(4, 6).join("") + "-" + h.slice(6, 8).join("") + "-" +
      h.slice(8, 10).join("") + "-" + h.slice(10).join("");
  }
  function usedIds() {
    try { return JSON.parse(localStorage.getItem("outreach-used-ids") || "[]"); } catch (e) { return []; }
  }
  function markUsed(id) {
    var ids = usedIds(); ids.push(id);
    localStorage.setItem("outreach-used-ids", JSON.stringify(ids.slice(-500)));
  }

  // --- sync engine -----------------------------------------------------------------------
  var running = null, rerun = false, timer = null, delay = 0, authNeeded = false, sending = {}, sentNow = [];

  function sync() {  // one run at a time; a call during a run asks for one more run after it
    if (running) { rerun = true; return running; }
    running = run().then(function () {
      running = null;
      if (rerun) { rerun = false; return sync(); }
    }, function (e) { running = null; throw e; });
    return running;
  }
  function schedule(failed) {
    clearTimeout(timer);
    if (!failed) { delay = 0; return; }
    delay = Math.min(delay ? delay * 2 : 2000, 300000);
    timer = setTimeout(sync, delay + Math.random() * 1000);
  }
  function freshToken() {
    return fetch("/file-attente/jeton", { credentials: "same-origin", redirect: "manual",
                                            headers: { Accept: "application/json" } })
      .then(function (r) {
        if (r.type === "opaqueredirect" || r.status === 401 || r.status === 403) return { auth: true };
        if (!r.ok) return { transient: true };
        return r.json().then(function (j) { return { token: j.csrf_token }; });
      }, function () { return { transient: true }; });
  }
  function send(rec, token) {
    return fetch(rec.url, { method: "POST", credentials: "same-origin", redirect: "manual",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": token },
      body: JSON.stringify(rec.body) }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) { return { status: r.status, type: r.type, json: j }; });
    }, function () { return { status: 0 }; });
  }
  function mine(records) {
    return records.filter(function (r) { return r.user === user && r.state !== "refused"; });
  }
  function run() {
    if (!user) return Promise.resolve();
    return all().then(function (records) {
      var todo = mine(records);
      if (!todo.length || !navigator.onLine) { render(); return schedule(todo.length > 0); }
      return freshToken().then(function (t) {
        authNeeded = !!t.auth;
        if (t.token) return drain(todo, t.token, records);
        render(); schedule(!!t.transient);
      });
    });
  }
  function drain(todo, token, records) {
    var blocked = {}, failed = false, i = 0;
    records.forEach(function (r) { if (r.type === "shift" && r.state === "refused") blocked[r.id] = true; });
    function next() {
      if (i >= todo.length) { render(); return schedule(failed); }
      var rec = todo[i++];
      if (rec.type !== "shift" && blocked[rec.shiftId]) return next();
      sending[rec.seq] = true; render();
      return send(rec, token).then(function (res) { delete sending[rec.seq]; return settle(rec, res); })
        .then(function (outcome) {
          if (outcome === "stop") { failed = true; i = todo.length; }
          else if (outcome !== "ok") { blocked[rec.id] = blocked[rec.shiftId] = outcome === "retry" || rec.type === "shift"; failed = failed || outcome === "retry"; }
          return next();
        });
    }
    return next();
  }
  function settle(rec, res) {
    if (res.status >= 200 && res.status < 300) {
      sentNow.push(rec.label); sentNow = sentNow.slice(-20);
      return remove(rec.seq).then(function () { return "ok"; });
    }
    if (res.status === 0 || res.status === 401 || res.type === "opaqueredirect") {
      authNeeded = res.status !== 0;
      return "stop";
    }
    if (res.status === 422 || res.status === 403 || res.status === 409 || res.status === 404) {
      rec.state = "refused";
      rec.errors = (res.json && (res.json.errors || (res.json.error && { _: res.json.error }))) || { _: String(res.status) };
      return put(rec).then(function () { return "refused"; });
    }
    rec.attempts += 1;
    return put(rec).then(function () { return "retry"; });
  }

  // --- building API bodies from the forms -----------------------------------------------------
  function val(fd, name) { var v = fd.get(name); return v === null || v === "" ? undefined : String(v); }
  function num(v) { return v === undefined ? undefined : parseInt(v, 10); }
  function isoFromTime(v) {
    var now = new Date(), d = new Date(now);
    if (v && /^\d{1,2}:\d{2}$/.test(v)) {
      var p = v.split(":"); d.setHours(+p[0], +p[1], 0, 0);
      if (d - now > 3600000) d.setDate(d.getDate() - 1);  // 01:30 typed for last night
    } else if (v) { d = new Date(v); if (isNaN(d)) d = now; }
    return d.toISOString().replace(/\.\d{3}Z$/, "Z");
  }
  function prefixed(form, prefix, fn) {
    var out = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name.indexOf(prefix) !== 0 || el.disabled) return;
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) return;
      var r = fn(el.name.slice(prefix.length), el); if (r !== undefined) out.push(r);
    });
    return out;
  }
  function qtyMap(form, prefix) {
    var m = {};
    prefixed(form, prefix, function (code, el) { var n = parseInt(el.value, 10); if (n > 0) m[code] = n; });
    return m;
  }
  function normalise(s) {
    return (s || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toUpperCase()
      .replace(/[^A-Z0-9]+/g, " ").trim();
  }
  function digestOf(form, fd) {
    var initial = normalise(val(fd, "pseudo_initial")).slice(0, 1), name = normalise(val(fd, "pseudo_name"));
    var birth = val(fd, "pseudo_birth") || "", sex = (val(fd, "pseudo_sex") || "").toUpperCase();
    if (!/^\d{4}(-\d{2}-\d{2})?$/.test(birth)) birth = "";
    var salt = form.getAttribute("data-plan-salt") || document.body.getAttribute("data-plan-salt") || "";
    var msg = [salt, initial, name, birth, sex].join("|");
    return crypto.subtle.digest("SHA-256", new TextEncoder().encode(msg)).then(function (buf) {
      var hex = Array.prototype.map.call(new Uint8Array(buf), function (b) { return (b + 256).toString(16).slice(1); }).join("");
      return { digest: hex, weak: !initial || !name || !birth };
    });
  }
  function person(form, fd) {
    if (val(fd, "kind") !== "known") return Promise.resolve(undefined);
    var digest = val(fd, "digest");
    if (digest) return Promise.resolve({ digest: digest, weak: ["1", "true", "y"].indexOf(val(fd, "is_weak")) >= 0 || val(fd, "weak") === "true" });
    return digestOf(form, fd);
  }
  function contactBody(form, fd) {
    return person(form, fd).then(function (p) {
      return clean({
        id: val(fd, "id"), shift_id: val(fd, "shift_id") || localStorage.getItem("outreach-shift") || undefined, occurred_at: isoFromTime(val(fd, "occurred_at")),
        sector: val(fd, "sector"), kind: val(fd, "kind"), person: p, people_count: num(val(fd, "people_count")),
        sex: val(fd, "sex"), age_band: val(fd, "age_band"), living_situation: val(fd, "living_situation"),
        products: fd.getAll("products"), needs: fd.getAll("needs"), materials: qtyMap(form, "material-"),
        orientations: prefixed(form, "orientation-", function (code) {
          var acc = form.elements["accompanied-" + code];
          return { destination: code, accompanied: !!(acc && acc.checked) };
        }),
        referrals: prefixed(form, "referral-", function (code) { return { programme: code }; })
      });
    });
  }
  function shiftBody(form, fd) {
    return Promise.resolve(clean({
      id: val(fd, "id"), team: val(fd, "team"), started_at: isoFromTime(val(fd, "started_at")),
      sectors: fd.getAll("sectors"), staff_count: num(val(fd, "staff_count")),
      stock_out: Object.assign(qtyMap(form, "stock-"), qtyMap(form, "stock_out-"))
    }));
  }
  function closeBody(form, fd) {
    var bool = val(fd, "police_presence");
    return Promise.resolve(clean({
      ended_at: isoFromTime(val(fd, "ended_at")), ambiance: val(fd, "ambiance"),
      police_presence: bool === undefined ? undefined : ["1", "true", "y", "oui", "on"].indexOf(bool) >= 0,
      unapproached: { f: num(val(fd, "unapproached_women")) || 0, m: num(val(fd, "unapproached_men")) || 0,
                      x: num(val(fd, "unapproached_other")) || 0 },
      used_material_collected: num(val(fd, "used_material_collected")),
      stock_back: Object.assign(qtyMap(form, "back-"), qtyMap(form, "stock_back-"))
    }));
  }
  function clean(o) {
    Object.keys(o).forEach(function (k) { if (o[k] === undefined) delete o[k]; });
    return o;
  }
  var KINDS = {
    "contact-form": { type: "contact", build: contactBody },
    "shift-form": { type: "shift", build: shiftBody },
    "shift-close-form": { type: "close", build: closeBody }
  };

  function kindOf(form) {  // by id, or by data-queue="contact|shift|close" on other forms
    var byId = KINDS[form.getAttribute("id")], type = form.getAttribute("data-queue");
    return byId || Object.keys(KINDS).map(function (k) { return KINDS[k]; })
      .filter(function (k) { return k.type === type; })[0];
  }

  // --- form enhancement -----------------------------------------------------------------
  function notice(form, text, isError) {
    var p = form.previousElementSibling;
    if (!p || !p.classList.contains("offline-notice")) {
      p = document.createElement("p"); p.className = "flash offline-notice";
      form.parentNode.insertBefore(p, form);
    }
    p.className = "flash offline-notice " + (isError ? "flash-error" : "flash-success");
    p.setAttribute("role", isError ? "alert" : "status");
    p.textContent = text;
    return p;
  }
  function clearErrors(form) {
    Array.prototype.forEach.call(form.querySelectorAll(".js-error"), function (e) { e.remove(); });
    Array.prototype.forEach.call(form.querySelectorAll("[aria-invalid]"), function (e) { e.removeAttribute("aria-invalid"); });
  }
  function showErrors(form, errors) {
    clearErrors(form);
    var lines = [];
    Object.keys(errors || {}).forEach(function (field) {
      var msg = [].concat(errors[field]).join(" ");
      lines.push(msg);
      var el = document.getElementById(field) || form.elements[field] || form.elements[field + "_id"];
      if (el && el.length !== undefined && !el.tagName) el = el[0];
      if (!el) return;
      var box = el.closest("fieldset, .field") || el;
      var p = document.createElement("p"); p.className = "field-error js-error"; p.textContent = msg;
      box.appendChild(p);
      if (el.setAttribute) el.setAttribute("aria-invalid", "true");
    });
    notice(form, lines.join(" "), true);
  }
  function onSaved(form, json) {
    var text = T.saved, p = json && json.person;
    if (p && p.known && p.last_seen_on) text += " " + T.known.replace("%d", p.last_seen_on).replace("%t", p.last_seen_team || "");
    else if (p && p.known === false) text += " " + T.first;
    notice(form, text, false);
    if (kindOf(form).type !== "contact") { location.reload(); return; }
    resetForm(form);
  }
  function resetForm(form) {
    clearErrors(form);
    form.reset();
    if (form.elements.id) form.elements.id.value = uuid();
    if (form.elements.digest) form.elements.digest.value = "";
  }
  function submitForm(form, kind) {
    var fd = new FormData(form);
    if (kind.type !== "close" && !val(fd, "id") && form.elements.id) { form.elements.id.value = uuid(); fd = new FormData(form); }
    var url = form.getAttribute("data-api");
    return kind.build(form, fd).then(function (body) {
      if (kind.type !== "close" && !body.id) body.id = uuid();  // a retry must reuse it: idempotent
      var label = labelFor(kind.type, body);
      if (kind.type === "shift") localStorage.setItem("outreach-shift", body.id);
      return add(kind.type, url, body, label).then(function (rec) {
        return all().then(function (records) {
          var earlier = mine(records).length > 1;  // keep the order: wait behind them
          if (navigator.onLine && !earlier) return sendNow(form, rec);
          notice(form, T.savedOffline, false); resetForm(form); if (earlier) sync();
        });
      });
    });
  }
  function sendNow(form, rec) {
    return freshToken().then(function (t) {
      if (!t.token) { authNeeded = !!t.auth; render(); notice(form, T.savedOffline, false); resetForm(form); schedule(true); return; }
      return send(rec, t.token).then(function (res) {
        if (res.status >= 200 && res.status < 300) return remove(rec.seq).then(function () { render(); onSaved(form, res.json); });
        if (res.status === 422) return remove(rec.seq).then(function () { render(); showErrors(form, res.json.errors); });
        if (res.status === 401 || res.type === "opaqueredirect") authNeeded = true;
        notice(form, T.savedOffline, false); resetForm(form); render(); schedule(true);
      });
    });
  }
  function labelFor(type, body) {
    var when = (body.occurred_at || body.started_at || body.ended_at || "");
    var time = when ? new Date(when).toLocaleTimeString(EN ? "en-GB" : "fr-FR", { hour: "2-digit", minute: "2-digit" }) : "";
    return [T[type], time, body.sector || (body.sectors || []).join(", ")].filter(Boolean).join(" · ");
  }

  // --- logout: warn, then clear the device ----------------------------------------------
  function clearDevice() {
    wiped = true; clearTimeout(timer);
    var jobs = [new Promise(function (resolve) {
      var close = dbPromise ? dbPromise.then(function (db) { db.close(); }) : Promise.resolve();
      close.catch(function () { return null; }).then(function () {
        var req = indexedDB.deleteDatabase("outreach-queue");
        req.onsuccess = req.onerror = req.onblocked = function () { resolve(); };
      });
    })];
    if (window.caches) jobs.push(caches.keys().then(function (keys) {
      return Promise.all(keys.filter(function (k) { return k.indexOf("outreach-") === 0; }).map(function (k) { return caches.delete(k); }));
    }));
    localStorage.removeItem("outreach-used-ids");
    localStorage.removeItem("outreach-shift");
    return Promise.all(jobs);
  }
  function onLogout(form) {
    var first = navigator.onLine ? sync().catch(function () { return null; }) : Promise.resolve();
    first.then(all).then(function (records) {
      var left = records.filter(function (r) { return r.user === user; }).length;
      if (left && !window.confirm(T.logout.replace("%n", left))) return;
      return clearDevice().then(function () { form.submit(); });
    });
  }

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (form.getAttribute("id") === "logout-form") { ev.preventDefault(); onLogout(form); return; }
    var kind = kindOf(form);
    if (!kind || !form.getAttribute("data-api") || !user) return;
    ev.preventDefault();
    submitForm(form, kind).catch(function (e) {
      if (window.console) console.error(e);
      if (navigator.onLine) form.submit();  // last resort: the plain POST
    });
  });

  // --- status and queue page --------------------------------------------------------------
  var renderQueued = false;
  function render() {
    if (renderQueued) return; renderQueued = true;
    setTimeout(function () { renderQueued = false; all().then(draw, function () { return null; }); }, 50);
  }
  function draw(records) {
    var own = records.filter(function (r) { return r.user === user; });
    var refused = own.filter(function (r) { return r.state === "refused"; }).length;
    var status = document.getElementById("sync-status");
    if (status) {
      var parts = [];
      if (own.length - refused) parts.push(T.pending.replace("%n", own.length - refused));
      if (refused) parts.push(T.refused.replace("%n", refused));
      if (authNeeded && own.length) parts.push(T.relogin);
      status.hidden = !parts.length;
      status.className = "sync" + (refused || authNeeded ? " error" : parts.length ? " pending" : "");
      status.textContent = "";
      var a = document.createElement("a"); a.href = "/file-attente"; a.textContent = parts.join(" · ");
      status.appendChild(a);
    }
    if (window.outreachQueuePage) window.outreachQueuePage.draw(records);  // queue page only
  }
  // --- start -----------------------------------------------------------------------------
  function freshIds() {
    var used = usedIds();
    ["contact-form", "shift-form"].forEach(function (id) {  // a close form's id is its shift's
      var form = document.getElementById(id);
      if (form && form.elements.id && (!form.elements.id.value || used.indexOf(form.elements.id.value) >= 0)) form.elements.id.value = uuid();
    });
  }
  function warm() {
    if (!navigator.onLine || !navigator.serviceWorker || sessionStorage.getItem("outreach-warm")) return;
    navigator.serviceWorker.ready.then(function (reg) {
      var urls = Array.prototype.map.call(document.querySelectorAll("header nav a, [data-offline-warm]"), function (a) { return a.getAttribute("href"); });
      if (reg.active) reg.active.postMessage({ type: "warm", urls: urls.concat(["/file-attente", "/hors-ligne"]) });
      sessionStorage.setItem("outreach-warm", "1");
    });
  }
  window.outreachQueue = { add: add, all: all, put: put, remove: remove, sync: sync, render: render,
    clear: clearDevice, uuid: uuid, user: user,
    status: function () { return { sending: sending, sent: sentNow }; } };
  if (!user) return;
  freshIds();
  window.addEventListener("online", function () { delay = 0; sync(); });
  window.addEventListener("offline", render);
  warm();
  sync();
})();
