/* The logging page (/maraude), with queue.js: stage-1 pseudonym digest in the browser (the code
   inputs are cleared and disabled before any submit, so they are never sent), known/new lookup, +1
   buttons for material; after a save the undo button and the contact in the list, as without
   JavaScript. */
(function () {
  "use strict";
  var D = document, undoTimer;
  function norm(s) {
    return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toUpperCase().replace(/[^A-Z0-9]+/g, " ").trim();
  }
  function sha256(text) {  // hex; crypto.subtle is missing on plain-http origins: sha256.js then
    if (!crypto.subtle) return import("/static/js/sha256.js").then(function () { return window.outreachSha256(text); });
    return crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)).then(function (buf) {
      return [].map.call(new Uint8Array(buf), function (b) { return (b + 256).toString(16).slice(1); }).join("");
    });
  }
  function parts(form) {  // normalised code inputs, as outreach/pseudonyms/services.py; null when all empty
    var el = form.elements, initial = norm(el.pseudo_initial.value).slice(0, 1), name = norm(el.pseudo_name.value);
    var birth = el.pseudo_birth.value.trim();
    if (!/^\d{4}(-\d\d-\d\d)?$/.test(birth)) birth = "";
    return initial || name || birth ? [form.getAttribute("data-plan-salt"), initial, name, birth, el.pseudo_sex.value.toUpperCase()] : null;
  }
  function digest(form) {  // stage 1, into the hidden fields digest and is_weak
    var p = parts(form), el = form.elements;
    if (!p) return Promise.resolve(null);
    el.is_weak.value = p[1] && p[2] && p[3] ? "" : "1";
    return sha256(p.join("|")).then(function (d) { return el.digest.value = d; });
  }
  function check(form) {  // known or new: only the digest leaves the device
    var status = D.getElementById("pseudo-status"), msg = status.getAttribute("data-msg").split("|");
    digest(form).then(function (d) {
      return d && fetch(form.getAttribute("data-lookup"), { method: "POST", credentials: "same-origin", body: JSON.stringify({ digest: d }),
        headers: { "Content-Type": "application/json", "X-CSRFToken": form.elements.csrf_token.value } })
        .then(function (r) { return r.json(); })
        .then(function (j) {
          status.textContent = (j.known ? msg[0].replace("{date}", j.last_seen_on).replace("{team}", j.last_seen_team) : msg[1]) +
            (form.elements.is_weak.value ? " " + msg[2] : "");
        });
    }).catch(function () { status.textContent = msg[3]; });
  }
  function own(ev) { return ev.target.closest("#contact-form"); }
  D.addEventListener("click", function (ev) {
    var form = own(ev), t = ev.target;
    if (form && t.id == "pseudo-check") check(form);
    if (form && t.className == "step") { t = t.previousElementSibling; t.value = (+t.value || 0) + 1; }
  });
  D.addEventListener("change", function (ev) { if (own(ev) && ev.target.name == "pseudo_sex") check(own(ev)); });
  D.addEventListener("submit", function (ev) {  // capture: before queue.js reads the form or the browser posts it
    var form = own(ev);
    if (!form) return;
    if (form.elements.kind.value == "known" && !form.elements.digest.value && parts(form)) {
      ev.preventDefault();  // the digest first (asynchronous), then the same submit again
      ev.stopImmediatePropagation();
      return digest(form).then(function () {
        if (form.requestSubmit) return form.requestSubmit();
        hideRaw(form);
        form.submit();
      });
    }
    hideRaw(form);
  }, true);
  function hideRaw(form) {  // the code inputs are never sent; back once the page has the next contact
    var raw = form.querySelectorAll("[name^=pseudo_]");
    raw.forEach(function (e) { if (e.type != "radio") e.value = ""; e.disabled = true; });
    setTimeout(function () {
      raw.forEach(function (e) { e.disabled = e.checked = false; });
      form.elements.digest.value = form.elements.is_weak.value = "";
    });
  }
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
      undo.action = undo.action.replace(/[^/]+\/undo$/, c.id + "/undo");
      undo.hidden = false;
      clearTimeout(undoTimer);
      undoTimer = setTimeout(function () { undo.hidden = true; }, undo.getAttribute("data-minutes") * 6e4);
    }
    if (!list || !c.occurred_at) return;
    var kind = ev.target.querySelector("[name=kind][value=" + c.kind + "]").parentNode;  // its chip, as the server's list
    li.textContent = window.outreachQueue.hhmm(c.occurred_at) + " · " + kind.textContent.split(" /")[0] +
      (c.people_count > 1 ? " ×" + c.people_count : "");
    list.prepend(li);
  });
  D.addEventListener("outreach:queued", function (ev) {  // undo is for a contact the server has
    var undo = D.getElementById("undo-form");
    if (undo) undo.hidden = true;
    if (ev.target.id == "shift-close-form") closedHere();  // (no field named "id" in that form)
  });
  // A close waiting on the device ends the shift here too, also on the cached page after a reload
  // offline: the server refuses contacts for a closed shift, so none can be logged into it any more.
  function closedHere() {
    var forms = D.getElementById("shift-forms");
    if (!forms) return;  // a shift started offline: start.js shows the start form again
    forms.hidden = true;
    D.getElementById("closed-here").hidden = false;
  }
  var form = D.getElementById("contact-form"), Q = window.outreachQueue;
  if (form) init(form);
  if (form && Q) Q.all().then(function (records) {
    var shift = form.elements.shift_id.value;
    if (Q._.waiting(records).some(function (r) { return r.type == "close" && r.shiftId == shift; })) closedHere();
  });
  window.outreachLogInit = init;
})();
