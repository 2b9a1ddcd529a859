/* The queue page (/file-attente): each record on this device with its state; a record the server
   refused shows its errors with a small form to fix and send it again, or to discard it. */
(function () {
  "use strict";
  var Q = window.outreachQueue;
  if (!Q) return;
  var T = document.documentElement.lang === "en" ? {
    queued: "saved on this device", sending: "sending", sent: "sent", rejected: "refused",
    errors: "The server refused this record:", fix: "Send again", discard: "Discard",
    confirmDiscard: "Discard this record for good?", otherUser: "waiting for its author to log in"
  } : {
    queued: "enregistré sur l'appareil", sending: "en cours d'envoi", sent: "envoyé", rejected: "refusé",
    errors: "Le serveur a refusé cet enregistrement :", fix: "Renvoyer", discard: "Supprimer",
    confirmDiscard: "Supprimer définitivement cet enregistrement ?",
    otherUser: "en attente de la connexion de son auteur·rice"
  };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }
  function stateOf(r) {
    if (r.user !== Q.user) return T.otherUser;
    if (Q.status().sending[r.seq]) return T.sending;
    return r.state === "refused" ? T.rejected : T.queued;
  }
  function draw(records) {
    var list = document.getElementById("queue-list");
    if (!list) return;
    var keep = {};  // refused items keep their element: a fix being typed survives re-renders
    Array.prototype.forEach.call(list.querySelectorAll("li.refused[data-seq]"), function (li) {
      keep[li.getAttribute("data-seq")] = li;
    });
    list.textContent = "";
    records.forEach(function (r) {
      var old = r.state === "refused" && r.user === Q.user && keep[r.seq];
      list.appendChild(old || item(r));
    });
    var sent = Q.status().sent;
    sent.forEach(function (label) { list.appendChild(el("li", "queue-item sent", label + " — " + T.sent)); });
    var empty = document.getElementById("queue-empty");
    if (empty) empty.hidden = records.length + sent.length > 0;
  }
  function item(r) {
    var li = el("li", "queue-item " + r.state);
    li.setAttribute("data-id", r.id);
    li.setAttribute("data-seq", r.seq);
    li.appendChild(el("span", "", r.label + " — "));
    li.appendChild(el("strong", "queue-state", stateOf(r)));
    if (r.state === "refused" && r.user === Q.user) li.appendChild(fixForm(r));
    return li;
  }
  function fixField(form, r, field) {
    var msg = [].concat(r.errors[field]).join(" ");
    form.appendChild(el("p", "field-error", (field === "_" ? "" : field + " : ") + msg));
    var v = r.body[field];
    if (field === "_" || (v !== undefined && typeof v === "object")) return;
    var label = el("label", "", field), input = el("input");
    input.id = label.htmlFor = "fix-" + r.seq + "-" + field;
    input.name = field;
    input.value = v === undefined ? "" : v;
    form.appendChild(label);
    form.appendChild(input);
  }
  function fixForm(r) {
    var form = el("form", "queue-fix");
    form.appendChild(el("p", "", T.errors));
    Object.keys(r.errors || {}).forEach(function (field) { fixField(form, r, field); });
    var again = el("button", "primary", T.fix), drop = el("button", "", T.discard), actions = el("p", "actions");
    again.type = "submit";
    drop.type = "button";
    drop.setAttribute("data-discard", r.seq);
    actions.appendChild(again);
    actions.appendChild(drop);
    form.appendChild(actions);
    form.addEventListener("submit", function (ev) { ev.preventDefault(); retry(r, form); });
    return form;
  }
  function retry(r, form) {
    Array.prototype.forEach.call(form.querySelectorAll("input"), function (input) {
      var old = r.body[input.name];
      r.body[input.name] = typeof old === "number" ? Number(input.value) : input.value;
    });
    r.state = "queued";
    delete r.errors;
    Q.put(r).then(function () { Q.render(); return Q.sync(); });
  }
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest("[data-discard]");
    if (b && window.confirm(T.confirmDiscard)) Q.remove(Number(b.getAttribute("data-discard"))).then(Q.render);
    if (ev.target.id === "queue-sync") Q.sync();
  });
  window.outreachQueuePage = { draw: draw };
  Q.render();
})();
