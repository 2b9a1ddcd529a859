/* The logging page (/maraude), with queue.js: type first (only what the chosen type needs is shown
   and sent), stage-1 pseudonym digest in the browser (the code inputs are cleared and disabled before
   any submit, so they are never sent), known/new lookup, +1 buttons for material; after a save the
   undo button, the counters and the contact in the list, as without JavaScript. */
(function () {
  "use strict";
  var doc = document, undoTimer;
  // Stage 1 of the person code, as outreach/pseudonyms/services.py (README "Pseudonym codes").
  var FOLD = { "Æ": "AE", "Ð": "D", "Đ": "D", "Ħ": "H", "Ł": "L", "Ŋ": "N", "Ø": "O", "Œ": "OE", "Þ": "TH", "Ŧ": "T",
               "ẞ": "SS", "Ɓ": "B", "Ɗ": "D", "Ɛ": "E", "Ɔ": "O", "Ƙ": "K", "Ɲ": "N", "Ƴ": "Y" };
  function norm(s) {
    s = s.replace(/['`\u00b4\u2018\u2019\u02bc\uff07]/g, "")
      .replace(/[^\0-\u036f\u1ab0-\u1aff\u1dc0-\u1eff\u20d0-\u20ff\ufb00-\ufb06\ufe20-\ufe2f\uff01-\uff5e]/g, " ")
      .normalize("NFKD").toUpperCase().normalize("NFKD")
      .replace(/[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]/g, "");
    return s.replace(/[^A-Z0-9]/g, function (c) { return FOLD[c] || " "; }).replace(/ +/g, " ").trim();
  }
  function birth(s) {  // YYYY or YYYY-MM-DD, from a year, year-month-day or day-month-year
    var n = norm(s), m = /^(\d\d?) (\d\d?) (\d{4})$/.exec(n), two = function (x) { return x.length < 2 ? "0" + x : x; };
    if (m) n = m[3] + " " + m[2] + " " + m[1];
    m = /^(\d{4})(?: (\d\d?) (\d\d?))?$/.exec(n);
    return !m ? "" : m[2] ? [m[1], two(m[2]), two(m[3])].join("-") : m[1];
  }
  function parts(form) {  // [initial, name, birth, sex] normalised; null when initial, name and birth are empty
    var el = form.elements, sex = { f: "F", m: "M", x: "X" }[el.sex.value] || "";  // the contact's sex is the code's
    var p = [norm(el.pseudo_initial.value).slice(0, 1), norm(el.pseudo_name.value), birth(el.pseudo_birth.value)];
    return p.join("") ? p.concat(sex) : null;
  }
  function pbkdf2(password, form) {  // hex; crypto.subtle is missing on plain-http origins: sha256.js then
    var subtle = crypto.subtle, encoder = new TextEncoder(), salt = form.getAttribute("data-plan-salt"), n = +form.getAttribute("data-iterations");
    if (!subtle) return import("/static/js/sha256.js").then(function () { return window.outreachPbkdf2(password, salt, n); });
    return subtle.importKey("raw", encoder.encode(password), "PBKDF2", false, ["deriveBits"]).then(function (key) {
      return subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: encoder.encode(salt), iterations: n }, key, 256);
    }).then(function (buf) {
      return [].map.call(new Uint8Array(buf), function (b) { return (b + 256).toString(16).slice(1); }).join("");
    });
  }
  function digest(form) {  // stage 1 of the inputs as they are when it ends, into the hidden digest and is_weak
    var p = parts(form), t = p && p.join("|"), el = form.elements;
    if (!p) return Promise.resolve(null);
    return pbkdf2(t, form).then(function (d) {
      var now = parts(form);
      if (!now || now.join("|") != t) return digest(form);  // typed meanwhile
      el.is_weak.value = p[0] && p[1] && p[2] ? "" : "1";
      return el.digest.value = d;
    });
  }
  window.outreachStage1 = { norm: norm, birth: birth, pbkdf2: pbkdf2 };  // for tests/test_pseudonyms_browser.py
  function check(form) {  // known or new: only the digest leaves the device
    var status = doc.getElementById("pseudo-status"), msg = status.getAttribute("data-msg").split("|");
    digest(form).then(function (d) {
      return d && fetch(form.getAttribute("data-lookup"), { method: "POST", credentials: "same-origin", body: JSON.stringify({ digest: d }),
        headers: { "Content-Type": "application/json", "X-CSRFToken": form.elements.csrf_token.value } })
        .then(function (r) { return r.json().then(function (j) { if (!r.ok) throw j; return j; }); })
        .then(function (j) {
          if (form.elements.digest.value != d) return;  // inputs changed since
          status.textContent = (j.known ? msg[0].replace("{date}", j.last_seen_on).replace("{team}", j.last_seen_team) : msg[1]) +
            (form.elements.is_weak.value ? " " + msg[2] : "");
        });
    }).catch(function (e) {  // refused (no open shift, too many lookups): the server's message
      var errors = e && e.errors;
      status.textContent = errors ? errors[Object.keys(errors)[0]] : msg[3];
    });
  }
  function own(ev) { return ev.target.closest("#contact-form"); }
  doc.addEventListener("click", function (ev) {
    var form = own(ev), t = ev.target;
    if (form && t.id == "pseudo-check") check(form);
    if (form && t.className == "step") { t = t.previousElementSibling; t.value = (+t.value || 0) + 1; }
  });
  doc.addEventListener("input", function (ev) {  // a changed code input makes the digest and the status stale
    var form = own(ev);
    if (!form || (ev.target.name.indexOf("pseudo_") && ev.target.name != "sex")) return;
    form.elements.digest.value = form.elements.is_weak.value = "";
    doc.getElementById("pseudo-status").textContent = "";
  });
  doc.addEventListener("change", function (ev) {
    var form = own(ev), name = ev.target.name;
    if (form && name == "sex" && form.elements.kind.value == "known") check(form);
    if (form && name == "kind") {  // a code belongs to a known person only
      form.elements.digest.value = form.elements.is_weak.value = "";
      showKind(form);
    }
  });
  doc.addEventListener("reset", function (ev) {  // queue.js resets the form after a save: back to its default type
    var form = own(ev);
    if (form) setTimeout(function () { showKind(form); });
  });
  function showKind(form) {  // the parts the chosen type needs; the others hidden and disabled (not sent)
    var kind = form.elements.kind.value;
    form.querySelectorAll("[data-for]").forEach(function (part) {
      var off = part.getAttribute("data-for").split(" ").indexOf(kind) < 0;
      part.hidden = off;
      part.querySelectorAll("input").forEach(function (input) { input.disabled = off; });
    });
  }
  doc.addEventListener("submit", function (ev) {  // capture: before queue.js reads the form or the browser posts it
    var form = own(ev);
    if (!form) return;
    if (form.elements.kind.value == "known" && !form.elements.digest.value && parts(form)) {
      ev.preventDefault();  // the digest first (asynchronous), then the same save
      ev.stopImmediatePropagation();
      return digest(form).then(function () { resubmit(form); }, function () { form.submit(); });  // the server codes it
    }
    hideRaw(form);
  }, true);
  // A synthetic submit event, not requestSubmit(): after a tap, Chromium fired no second submit event and
  // the first tap saved nothing. queue.js handles (and cancels) it as a tap's; without queue.js, the plain POST.
  function resubmit(form) {
    if (form.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }))) form.submit();
  }
  function hideRaw(form) {  // the code inputs are never sent; back once the page has the next contact
    var raw = form.querySelectorAll("[name^=pseudo_]");
    raw.forEach(function (e) { e.value = ""; e.disabled = true; });
    setTimeout(function () {
      form.elements.digest.value = form.elements.is_weak.value = "";
      showKind(form);
    });
  }
  function init(form) {
    form.querySelectorAll("[name^=material-]").forEach(function (input) {
      var b = doc.createElement("button");
      b.type = "button"; b.className = "step"; b.textContent = "+1";
      input.after(b);
    });
    showKind(form);
  }
  doc.addEventListener("outreach:saved", function (ev) {  // as the plain POST: undo for a few minutes, the list
    var c = ev.detail, undo = doc.getElementById("undo"), form = doc.getElementById("undo-form");
    if (undo) {
      form.action = form.action.replace(/[^/]+\/undo$/, c.id + "/undo");
      undo.hidden = false;
      clearTimeout(undoTimer);
      undoTimer = setTimeout(function () { undo.hidden = true; }, form.getAttribute("data-minutes") * 6e4);
    }
    listed(ev.target, c);
  });
  doc.addEventListener("outreach:queued", function (ev) {  // undo is for a contact the server has
    var undo = doc.getElementById("undo");
    if (undo) undo.hidden = true;
    if (ev.target.id == "shift-close-form") closedHere();  // (no field named "id" in that form)
    // waiting on the device: logged all the same (on a shift the server drew; one started offline has no list here)
    if (ev.target.getAttribute("id") == "contact-form" && doc.querySelector(".contact-count")) listed(ev.target, ev.detail);
  });
  function listed(form, c) {  // the counters and the list, at once
    var list = doc.getElementById("contacts"), li = doc.createElement("li"), empty = list && list.querySelector(".muted");
    doc.querySelectorAll(".contact-count").forEach(function (n) { n.textContent = +n.textContent + 1; });
    if (!list || !c.occurred_at) return;
    if (empty) empty.remove();  // "Aucun contact."
    var kind = form.querySelector("[name=kind][value=" + c.kind + "]").parentNode;  // its chip, as the server's list
    li.textContent = window.outreachQueue.hhmm(c.occurred_at) + " · " + kind.textContent.split(" /")[0] +
      (c.people_count > 1 ? " ×" + c.people_count : "");
    list.prepend(li);
  }
  // A close waiting on the device ends the shift here too, also on the cached page after a reload
  // offline: the server refuses contacts for a closed shift, so none can be logged into it any more.
  function closedHere() {
    var forms = doc.getElementById("shift-forms");
    if (!forms) return;  // a shift started offline: start.js shows the start form again
    forms.hidden = true;
    doc.getElementById("closed-here").hidden = false;
  }
  var form = doc.getElementById("contact-form"), queue = window.outreachQueue;
  if (form) init(form);
  if (form && queue) queue.all().then(function (records) {
    var shift = form.elements.shift_id.value;
    if (queue._.waiting(records).some(function (r) { return r.type == "close" && r.shiftId == shift; })) closedHere();
  });

  window.outreachLogInit = init;
})();
