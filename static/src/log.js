/* The logging page (/maraude), with queue.js: stage-1 pseudonym digest in the browser (the code
   inputs are cleared and disabled before any submit, so they are never sent), known/new lookup, +1
   buttons for material; after a save the undo button and the contact in the list, as without
   JavaScript; a shift started offline gets the contact form at once, its contacts queued behind it. */
(function () {
  "use strict";
  var D = document, Q = window.outreachQueue, undoTimer;
  function norm(s) {
    return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toUpperCase().replace(/[^A-Z0-9]+/g, " ").trim();
  }
  function sha256hex(str) {  // pure JS: crypto.subtle is missing on plain-http LAN origins
    var K = [], H = [], i, j, p = 2, c;
    for (c = 0; c < 64; p++) {
      for (j = 2; j * j <= p && p % j; j++);
      if (j * j > p) { if (c < 8) H[c] = (Math.pow(p, 1 / 2) * 4294967296) | 0; K[c++] = (Math.pow(p, 1 / 3) * 4294967296) | 0; }
    }
    var b = unescape(encodeURIComponent(str)), w = [];
    for (i = 0; i < b.length; i++) w[i >> 2] |= b.charCodeAt(i) << ((3 - i) % 4) * 8;
    w[b.length >> 2] |= 0x80 << ((3 - b.length) % 4) * 8;
    w[((b.length + 8) >> 6) * 16 + 15] = b.length * 8;
    function r(x, n) { return (x >>> n) | (x << (32 - n)); }
    for (j = 0; j < w.length; j += 16) {
      var a = H.slice(0), W = [];
      for (i = 0; i < 64; i++) {
        W[i] = i < 16 ? w[j + i] | 0 : (r(W[i - 2], 17) ^ r(W[i - 2], 19) ^ (W[i - 2] >>> 10)) + W[i - 7] +
          (r(W[i - 15], 7) ^ r(W[i - 15], 18) ^ (W[i - 15] >>> 3)) + W[i - 16] | 0;
        var t1 = a[7] + (r(a[4], 6) ^ r(a[4], 11) ^ r(a[4], 25)) + ((a[4] & a[5]) ^ (~a[4] & a[6])) + K[i] + W[i];
        var t2 = (r(a[0], 2) ^ r(a[0], 13) ^ r(a[0], 22)) + ((a[0] & a[1]) ^ (a[0] & a[2]) ^ (a[1] & a[2]));
        a = [(t1 + t2) | 0].concat(a); a[4] = (a[4] + t1) | 0; a.pop();
      }
      for (i = 0; i < 8; i++) H[i] = (H[i] + a[i]) | 0;
    }
    return H.map(function (x) { return ("0000000" + (x >>> 0).toString(16)).slice(-8); }).join("");
  }
  function digest(form) {  // same as outreach/pseudonyms/services.py; null without any input
    var el = form.elements, initial = norm(el.pseudo_initial.value).slice(0, 1), name = norm(el.pseudo_name.value);
    var birth = el.pseudo_birth.value.trim(), sex = el.pseudo_sex.value.toUpperCase();
    if (!/^\d{4}(-\d\d-\d\d)?$/.test(birth)) birth = "";
    if (!initial && !name && !birth) return null;
    el.is_weak.value = initial && name && birth ? "" : "1";
    return el.digest.value = sha256hex([form.getAttribute("data-plan-salt"), initial, name, birth, sex].join("|"));
  }
  function check(form) {  // known or new: only the digest leaves the device
    var d = digest(form), status = D.getElementById("pseudo-status"), msg = status.getAttribute("data-msg").split("|");
    if (d) fetch(form.getAttribute("data-lookup"), { method: "POST", credentials: "same-origin", body: JSON.stringify({ digest: d }),
      headers: { "Content-Type": "application/json", "X-CSRFToken": form.elements.csrf_token.value } })
      .then(function (r) { return r.json(); })
      .then(function (j) {
        status.textContent = (j.known ? msg[0].replace("{date}", j.last_seen_on).replace("{team}", j.last_seen_team) : msg[1]) +
          (form.elements.is_weak.value ? " " + msg[2] : "");
      }).catch(function () { status.textContent = msg[3]; });
  }
  function own(ev) { return ev.target.closest && ev.target.closest("#contact-form"); }
  D.addEventListener("click", function (ev) {
    var form = own(ev), t = ev.target;
    if (form && t.id == "pseudo-check") check(form);
    if (form && t.className == "step") { t = t.previousElementSibling; t.value = (+t.value || 0) + 1; }
  });
  D.addEventListener("change", function (ev) { if (own(ev) && ev.target.name == "pseudo_sex") check(own(ev)); });
  D.addEventListener("submit", function (ev) {  // capture: before queue.js reads the form or the browser posts it
    var form = own(ev);
    if (!form) return;
    if (form.elements.kind.value == "known" && !form.elements.digest.value) digest(form);
    var raw = form.querySelectorAll("[name^=pseudo_]");
    raw.forEach(function (e) { if (e.type != "radio") e.value = ""; e.disabled = true; });
    setTimeout(function () {  // the page stays (JSON path): ready for the next contact
      raw.forEach(function (e) { e.disabled = e.checked = false; });
      form.elements.digest.value = form.elements.is_weak.value = "";
    });
  }, true);
  function init(form) {
    form.querySelectorAll("[name^=material-]").forEach(function (input) {
      var b = D.createElement("button");
      b.type = "button"; b.className = "step"; b.textContent = "+1";
      input.after(b);
    });
  }
  D.addEventListener("outreach:saved", function (ev) {  // as the plain POST: undo for a few minutes, the list
    var c = ev.detail, undo = D.getElementById("undo-form"), list = D.getElementById("contacts"), li = D.createElement("li");
    if (undo) {
      undo.action = undo.getAttribute("data-action").replace("ID", c.id);
      undo.hidden = false;
      clearTimeout(undoTimer);
      undoTimer = setTimeout(function () { undo.hidden = true; }, undo.getAttribute("data-minutes") * 6e4);
    }
    if (!list || !c.occurred_at) return;
    li.textContent = c.occurred_at.slice(11, 16) + " UTC · " + c.kind + (c.people_count > 1 ? " ×" + c.people_count : "");
    list.prepend(li);
  });
  function reveal(shift) {  // a shift queued on the device: log its contacts now
    var tpl = D.getElementById("contact-tpl"), start = D.getElementById("shift-form"), first;
    if (!tpl || D.getElementById("contact-form")) return;
    start.after(tpl.content);
    start.remove();
    var form = D.getElementById("contact-form");
    form.elements.shift_id.value = shift.id;
    form.elements.id.value = Q.uuid();
    form.querySelectorAll("[name=sector]").forEach(function (r) {
      if (shift.sectors.length && shift.sectors.indexOf(r.value) < 0) r.parentNode.remove();
      else if (!first) first = r.checked = true;
    });
    init(form);
  }
  D.addEventListener("outreach:queued", function (ev) {
    var undo = D.getElementById("undo-form");
    if (undo) undo.hidden = true;  // undo is for a contact the server has
    if (ev.target.getAttribute("id") == "shift-form") reveal(ev.detail);
  });
  var form = D.getElementById("contact-form");
  if (form) init(form);
  else if (Q && D.getElementById("contact-tpl")) Q.all().then(function (records) {
    var shift = records.filter(function (r) { return r.type == "shift" && r.user == Q.user && r.state != "refused"; }).pop();
    if (shift) reveal(shift.body);
  });
})();
