/* outreach, every page. Forms work as plain POST without this file. With it, a form with data-api
   posts JSON to the idempotent API through a queue in IndexedDB: when the network fails the record
   waits on the device (the stage-1 digest only, never the code inputs) and is sent when the network
   returns. Order is kept (a shift before its contacts); a refused record (422) is set aside with its
   errors and never blocks the others. Every change to a stored record is a versioned update (never a
   stale copy over a newer one). Records stay on the device until the server has them or their author
   discards them; a logout erases only its own user's records (see README, "La file d'attente"). */
(function () {
  "use strict";
  var win = window, doc = document, nav = navigator;
  if (!win.indexedDB || !win.fetch) return;
  if (nav.serviceWorker) nav.serviceWorker.register("/sw.js").catch(Boolean);
  var user = doc.body.getAttribute("data-user"), who = doc.body.getAttribute("data-user-email"), EN = doc.documentElement.lang == "en";
  var messages = EN ? {
    pending: "%n pending", refused: "%n refused", relogin: "log in again to send", saved: "Contact saved.",
    observed: "Site observation saved.",
    queued: "No network: saved on this device, it will be sent automatically.",
    full: "NOT saved: this device's storage is full. Free some space (photos, other apps), then tap again.",
    others: "%n record(s) of %u are waiting on this device: %u must log in on it to send them."
  } : {
    pending: "%n en attente", refused: "%n refusé(s)", relogin: "reconnectez-vous pour envoyer",
    saved: "Contact enregistré.", observed: "Observation du site enregistrée.",
    queued: "Pas de réseau : enregistré sur l'appareil, l'envoi se fera automatiquement.",
    full: "Contact NON enregistré : la mémoire de l'appareil est pleine. Libérez de la place (photos, autres applications), puis appuyez de nouveau.",
    others: "%n enregistrement(s) de %u attendent sur cet appareil : %u doit s'y connecter pour les envoyer."
  };

  // --- IndexedDB: one store of records, keyed by an increasing seq (the order) ---------------
  var dbp;
  function tx(mode, fn) {
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
  // Read, change and write one record in one transaction; fn returns false to leave it (e.g. it changed
  // since the caller read it: its version v differs). Resolves to the stored record, or null.
  function update(seq, fn) {
    var out = null;
    return tx("readwrite", function (s) {
      var req = s.get(seq);
      req.onsuccess = function () {
        var rec = req.result;
        if (!rec || fn(rec) === false) return;
        rec.v = (rec.v || 0) + 1;
        s.put(out = rec);
      };
      return req;
    }).then(function () { return out; });
  }
  function add(type, url, body, label, clock) {
    var rec = { id: body.id, type: type, url: url, body: body, user: user, who: who, label: label || "", state: "queued",
                v: 1, clock: clock || [],
                shiftId: type == "shift" ? body.id : type == "close" ? url.split("/")[4] : body.shift_id };  // /api/v1/shifts/ID/close
    return put(rec).then(function (seq) { rec.seq = seq; render(); return rec; });
  }
  function nothing() {}
  function uuid() {  // version 4 (crypto.randomUUID needs a secure context)
    return "10000000-1000-4000-8000-100000000000".replace(/[018]/g, function (c) {
      return (c ^ crypto.getRandomValues(new Uint8Array(1))[0] & 15 >> c / 4).toString(16);
    });
  }

  // Every request gives up after TIMEOUT ms (a held-open answer must not freeze the queue): status 0, retried
  // with backoff by sync.js. The phone's clock goes along; the server corrects the times taken from it.
  var TIMEOUT = 2e4;
  function request(url, init) {
    var ctl = win.AbortController && new AbortController(), t = ctl && setTimeout(function () { ctl.abort(); }, win.outreachQueue.timeout);
    init.credentials = "same-origin";
    init.redirect = "manual";
    init.signal = ctl && ctl.signal;
    return fetch(url, init).then(function (r) {
      return r.json().catch(Object).then(function (j) {
        clearTimeout(t);
        return { status: r.status, login: r.type == "opaqueredirect", json: j };
      });
    }).catch(function () { clearTimeout(t); return { status: 0 }; });
  }
  function post(url, body, token, clock) {
    return request(url, { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json",
      Accept: "application/json", "X-CSRFToken": token, "X-Client-Clock": "" + Date.now(), "X-Client-Clock-Fields": (clock || []).join(",") } });
  }
  function refusal(res) {  // the errors of a record the server refuses for good, else undefined
    var j = res.json;
    return [403, 404, 409, 422].indexOf(res.status) < 0 ? undefined : j.errors || { _: j.error || String(res.status) };
  }

  // --- sync.js sends the queue (retries, backoff, order); loaded only when records wait ----------
  var state = { auth: false, sending: {}, sent: [] }, engine;
  function load() {  // a failed load (offline, no cache yet) is tried again on the next call
    return engine = engine || import("/static/js/sync.js").then(function () { return win.outreachSync; }, function (e) {
      engine = null;
      throw e;
    });
  }
  function sync(online) { return load().then(function (e) { return e.sync(online); }); }
  function waiting(records) { return records.filter(function (r) { return r.user == user && r.state != "refused"; }); }

  // --- times: typed "HH:MM" is a Paris wall-clock time whatever the phone's zone; shown in Paris too --
  var PARIS = new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Paris", hourCycle: "h23", year: "numeric",
    month: "numeric", day: "numeric", hour: "numeric", minute: "numeric" });
  function paris(t) {  // {year, month, day, hour, minute} of the instant t in Paris
    var p = {};
    PARIS.formatToParts(t).forEach(function (x) { p[x.type] = +x.value; });
    return p;
  }
  function hhmm(t) { var p = paris(new Date(t)); return (p.hour + 100 + ":").slice(1) + (p.minute + 100 + "").slice(1); }
  function wall(p, h, m) { return Date.UTC(p.year, p.month - 1, p.day, h, m); }  // Paris wall clock read as UTC
  function ahead(t) { var p = paris(t); return wall(p, p.hour, p.minute) - Math.floor(t / 6e4) * 6e4; }  // Paris - UTC
  function atParis(p, h, m) {  // the instant whose Paris wall clock reads h:m on p's day (twice: summer time)
    var g = wall(p, h, m);
    return g - ahead(g - ahead(g));
  }

  // --- API bodies from the forms -------------------------------------------------------------
  function val(fd, name) { var v = fd.get(name); return v === null || v === "" ? undefined : "" + v; }
  function num(v) { return v && parseInt(v, 10); }
  function iso(v) {  // "HH:MM" typed: in Paris, today (or last night, when it is in the future); else now
    var now = Date.now(), d = now, hm = /^(\d\d?):(\d\d)$/.exec(v || ""), p = paris(now);
    if (hm) {
      d = atParis(p, +hm[1], +hm[2]);
      if (d - now > 36e5) d = atParis(paris(now - 864e5), +hm[1], +hm[2]);
    }
    return new Date(d).toISOString().replace(/\.\d+Z/, "Z");
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
  function copy(fd, names, body) {  // fields sent as they are
    names.split(" ").forEach(function (name) { body[name] = val(fd, name); });
    return body;
  }
  var BODY = {
    contact: function (f, fd) {
      var digest = val(fd, "kind") == "known" && val(fd, "digest");  // set by log.js
      return copy(fd, "id shift_id sector kind sex age_band living_situation", {
        occurred_at: iso(val(fd, "occurred_at")), person: digest ? { digest: digest, weak: !!val(fd, "is_weak") } : undefined,
        people_count: num(val(fd, "people_count")), products: fd.getAll("products"), needs: fd.getAll("needs"),
        materials: qty(f, "material-"), referrals: each(f, "referral-", function (code) { return { programme: code }; }),
        orientations: each(f, "orientation-", function (code) {
          var acc = f.elements["accompanied-" + code];
          return { destination: code, accompanied: !!(acc && acc.checked) };
        })
      });
    },
    shift: function (f, fd) {
      return copy(fd, "id team", { started_at: iso(val(fd, "started_at")), sectors: fd.getAll("sectors"),
                                   staff_count: num(val(fd, "staff_count")), stock_out: qty(f, "stock_out-") });
    },
    close: function (f, fd) {
      return { ended_at: iso(val(fd, "ended_at")), stock_back: qty(f, "stock_back-") };  // the rest: per site visit
    },
    observation: function (f, fd) {  // a site visit (templates/sites/_observe_form.html): the site by its code
      var site = f.elements.site_id, opt = site && site.options[site.selectedIndex];
      return copy(fd, "id shift_id ambiance", {
        site: opt && opt.getAttribute("data-code"), observed_at: iso(val(fd, "observed_at")), people_seen: count(fd, "people_seen"),
        police_presence: { oui: true, non: false }[val(fd, "police_presence")],
        unapproached: { f: count(fd, "unapproached_women"), m: count(fd, "unapproached_men"), x: count(fd, "unapproached_other") },
        used_material: { syringes: count(fd, "syringes_collected"), pipes: count(fd, "pipes_collected") },
        mediations: { residents: count(fd, "mediations_residents"), shopkeepers: count(fd, "mediations_shopkeepers") } });
    }
  };
  function count(fd, name) { return num(val(fd, name)) || 0; }
  var TYPES = { "contact-form": "contact", "shift-form": "shift", "shift-close-form": "close", "site-observation-form": "observation" };
  var SAVED = { contact: messages.saved, observation: messages.observed };  // these forms stay for the next one; the others reload

  // --- the forms -----------------------------------------------------------------------------
  function notice(form, text, bad) {
    var p = form.querySelector(".offline-notice") || form.previousElementSibling;  // in the form: next to its button
    if (!p || !p.classList.contains("offline-notice")) form.before(p = doc.createElement("p"));
    p.className = "flash offline-notice flash-" + (bad ? "error" : "success");
    p.setAttribute("role", bad ? "alert" : "status");
    p.textContent = text;
  }
  function full(type) { return type == "observation" ? messages.full.replace("Contact NON enregistré", "Observation NON enregistrée") : messages.full; }
  function clearErrors(form) {
    form.querySelectorAll(".js-error").forEach(function (e) { e.remove(); });
  }
  function showErrors(form, errors) {
    clearErrors(form);
    notice(form, Object.keys(errors).map(function (name) {
      var msg = [].concat(errors[name]).join(" "), el = form.elements[name] || form.elements[name + "_id"], p;
      if (el && !el.tagName) el = el[0];  // radio buttons
      if (el) {
        p = doc.createElement("p");
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
  function chip(form, name) {  // the words of the checked choice (its chip), as the server's list shows it
    var input = form.querySelector("[name=" + name + "]:checked"), l = input && input.closest("label");
    return l && l.textContent.split(" /")[0].trim();
  }
  function label(form, type, b) {  // for the queue page: kind (or form title), count, Paris time, sector in words
    var title = form.querySelector("h1,h2") || form.parentNode.querySelector("summary"), site = form.elements.site_id;
    site = site && site.options[site.selectedIndex];
    return [type == "contact" && chip(form, "kind") || form.getAttribute("data-label") || title && title.textContent.trim(),
            b.people_count > 1 && "×" + b.people_count, hhmm(b.occurred_at || b.started_at || b.ended_at || b.observed_at),
            chip(form, "sector") || b.sector || site && site.textContent.trim()].filter(Boolean).join(" · ");
  }
  function clockFields(fd, body) {  // the times taken from the phone's clock (nothing typed): the server corrects them
    return ["occurred_at", "started_at", "ended_at", "observed_at"].filter(function (name) { return body[name] && !val(fd, name); });
  }
  // One record: posted at once when online and nothing waits (to keep the order), else kept on the device.
  // Resolves to {state: "saved" (json: the answer) | "refused" (errors) | "queued" | "full"}.
  function send(type, url, body, token, label, clock) {
    function keep() {
      return add(type, url, body, label, clock).then(function () {
        sync().catch(nothing);
        return { state: "queued" };
      }, function () { return { state: "full" }; });  // storage full (or refused)
    }
    return all().then(function (records) {
      if (waiting(records).length || !nav.onLine) return keep();
      return post(url, body, token, clock).then(function (res) {
        var s = res.status, errors = refusal(res);
        if (s > 199 && s < 300) return { state: "saved", json: res.json };
        if (errors) return { state: "refused", errors: errors };
        return keep();  // network, session or server trouble: sync.js retries
      });
    });
  }
  function save(form, type) {
    var el = form.elements, url = form.getAttribute("data-api"), fd = new FormData(form);
    if (el.id && !el.id.value && type != "close") el.id.value = uuid();
    var body = BODY[type](form, fd), clock = clockFields(fd, body);
    if (type != "close") body.id = body.id || uuid();  // a retry reuses it: idempotent
    return send(type, url, body, el.csrf_token && el.csrf_token.value, label(form, type, body), clock).then(function (out) {
      if (out.state == "saved") {
        if (!SAVED[type]) return location.reload();
        notice(form, SAVED[type]);
        reset(form);
        return type == "contact" && emit(form, "saved", out.json);  // log.js: undo, the list
      }
      if (out.state == "refused") return showErrors(form, out.errors);
      if (out.state == "full") return notice(form, full(type), true);  // what was typed stays
      notice(form, messages.queued);
      reset(form);
      emit(form, "queued", body);
    });
  }
  doc.addEventListener("submit", function (ev) {
    var form = ev.target, type = TYPES[form.getAttribute("id")];
    if (!user) return;
    if (form.getAttribute("id") == "logout-form") {  // sync.js warns about unsent records, then clears the device
      ev.preventDefault();
      return load().then(function (e) { e.logout(form); }, function () { form.submit(); });
    }
    if (!BODY[type] || !form.getAttribute("data-api")) return;
    ev.preventDefault();
    save(form, type).catch(function () {  // the store cannot be read: the plain POST online, else say so
      if (nav.onLine) form.submit(); else notice(form, full(type), true);
    });
  });

  // --- status in the header ("N en attente"), the queue page draws the rest -------------------
  var drawing;
  function render() {
    drawing = drawing || setTimeout(function () { drawing = 0; all().then(draw, Boolean); }, 50);
  }
  function others(records) {  // whose records wait for them (never erased by someone else's logout)
    var by = {}, box = doc.getElementById("queue-others");
    records.forEach(function (r) { if (r.user != user) by[r.who || "?"] = (by[r.who || "?"] || 0) + 1; });
    var text = Object.keys(by).map(function (u) { return messages.others.replace("%n", by[u]).replace(/%u/g, u); }).join(" ");
    if (!box && text) doc.querySelector("main").prepend(box = doc.createElement("p"));
    if (!box) return;
    box.id = "queue-others";
    box.className = "flash flash-error";
    box.setAttribute("role", "alert");
    box.hidden = !text;
    box.textContent = text;
  }
  function draw(records) {
    others(records);
    var own = records.filter(function (r) { return r.user == user; }), parts = [], box = doc.getElementById("sync-status");
    var refused = own.filter(function (r) { return r.state == "refused"; }).length;
    if (own.length > refused) parts.push(messages.pending.replace("%n", own.length - refused));
    if (refused) parts.push(messages.refused.replace("%n", refused));
    if (state.auth && own.length) parts.push(messages.relogin);
    if (box) {
      box.hidden = !parts.length;
      box.className = "sync" + (refused || state.auth ? " error" : " pending");
      box.innerHTML = '<a href="/file-attente"></a>';
      box.firstChild.textContent = parts.join(" · ");
    }
    if (win.outreachQueuePage) win.outreachQueuePage.draw(records);
  }

  win.outreachQueue = { add: add, send: send, iso: iso, all: all, put: put, update: update, remove: remove, sync: sync, render: render, uuid: uuid,
    user: user, hhmm: hhmm, timeout: TIMEOUT,
    clear: function () { return load().then(function (e) { return e.clear(); }); },
    status: function () { return state; },
    _: { en: EN, post: post, request: request, refusal: refusal, waiting: waiting, tx: tx } };  // for sync.js
  if (!user) return all().then(others, nothing);  // e.g. the login page: whose records wait here
  ["contact-form", "shift-form", "site-observation-form"].forEach(function (id) {  // a page served from the cache must not reuse an id
    var form = doc.getElementById(id);
    if (form && form.elements.id) form.elements.id.value = uuid();
  });
  function start(online) {  // now and when the network returns: send what waits
    all().then(function (records) {
      draw(records);
      if (waiting(records).length) sync(online);
    }, nothing);
  }
  win.addEventListener("online", start);
  start();
})();
