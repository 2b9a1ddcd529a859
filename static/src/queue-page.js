/* The queue page (/file-attente): each record on this device with its state; a record the server
   refused shows its errors in words with a small form to fix and send it again, or to discard it.
   The list is updated in place at each sync step: an item being edited is never redrawn or moved
   (the field keeps the focus and what is typed), and a fix is written only over the version shown. */
(function () {
  "use strict";
  var queue = window.outreachQueue;
  if (!queue) return;
  var EN = document.documentElement.lang === "en";
  var messages = EN ? {
    queued: "saved on this device", sending: "sending", sent: "sent", rejected: "refused",
    errors: "The server refused this record:", fix: "Send again", discard: "Discard",
    confirmDiscard: "Discard this record for good?", otherUser: "waiting for its author to log in"
  } : {
    queued: "enregistré sur l'appareil", sending: "en cours d'envoi", sent: "envoyé", rejected: "refusé",
    errors: "Le serveur a refusé cet enregistrement :", fix: "Renvoyer", discard: "Supprimer",
    confirmDiscard: "Supprimer définitivement cet enregistrement ?",
    otherUser: "en attente de la connexion de son auteur·rice"
  };
  var FIELDS = EN ? {  // the body's fields in words; only the number fields can be typed here
    people_count: "Number of people", staff_count: "Staff present", occurred_at: "Time", started_at: "Start",
    ended_at: "End", sector: "Sector", sectors: "Sectors", kind: "Kind of contact", person: "Person's code",
    shift_id: "Shift", team: "Team", id: "Record", materials: "Material", products: "Products", needs: "Needs",
    orientations: "Orientations", referrals: "Shelter referrals", sex: "Sex", age_band: "Age",
    living_situation: "Living situation", stock_out: "Stock taken out", stock_back: "Stock brought back",
    site: "Site", observed_at: "Time", people_seen: "People seen", unapproached: "People seen, not approached",
    ambiance: "Atmosphere", police_presence: "Police presence", used_material: "Used material picked up",
    mediations: "Mediations", used_material_collected: "Used material picked up"
  } : {
    people_count: "Nombre de personnes", staff_count: "Intervenant·es présent·es", occurred_at: "Heure",
    started_at: "Début", ended_at: "Fin", sector: "Secteur", sectors: "Secteurs", kind: "Type de contact",
    person: "Code de la personne", shift_id: "Maraude", team: "Équipe", id: "Enregistrement", materials: "Matériel",
    products: "Produits", needs: "Besoins", orientations: "Orientations", referrals: "Orientations d'hébergement",
    sex: "Sexe", age_band: "Âge", living_situation: "Situation de logement", stock_out: "Matériel emporté",
    stock_back: "Matériel rapporté", site: "Site", observed_at: "Heure", people_seen: "Personnes vues",
    unapproached: "Personnes vues non abordées", ambiance: "Ambiance", police_presence: "Présence policière",
    used_material: "Matériel usagé ramassé", mediations: "Médiations", used_material_collected: "Matériel usagé ramassé"
  };
  var EDITABLE = { people_count: 1, staff_count: 1, people_seen: 1 };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }
  function stateOf(r) {
    if (r.user !== queue.user) return messages.otherUser;
    if (queue.status().sending[r.seq]) return messages.sending;
    return r.state === "refused" ? messages.rejected : messages.queued;
  }
  function key(r) { return [r.seq, r.v, r.state, stateOf(r)].join("|"); }
  function editing(li) {  // focus inside, or something typed and not sent yet
    return li.contains(document.activeElement) || li.hasAttribute("data-dirty");
  }
  function draw(records) {
    var list = document.getElementById("queue-list");
    if (!list) return;
    var old = {}, nodes = [];
    Array.prototype.slice.call(list.children).forEach(function (li) {
      if (li.hasAttribute("data-seq")) old[li.getAttribute("data-seq")] = li; else li.remove();  // "sent" lines
    });
    records.forEach(function (r) {
      var li = old[r.seq], keep = li && (li.getAttribute("data-key") === key(r) || editing(li));
      delete old[r.seq];
      if (li && !keep) li.remove();
      nodes.push(keep ? li : item(r));
    });
    Object.keys(old).forEach(function (seq) { old[seq].remove(); });  // sent or discarded meanwhile
    queue.status().sent.forEach(function (label) { nodes.push(el("li", "queue-item sent", label + " — " + messages.sent)); });
    nodes.forEach(function (node, i) {  // only what changed moves: the item being edited stays in place
      if (list.children[i] !== node) list.insertBefore(node, list.children[i] || null);
    });
    var empty = document.getElementById("queue-empty");
    if (empty) empty.hidden = nodes.length > 0;
  }
  function item(r) {
    var li = el("li", "queue-item " + r.state);
    li.setAttribute("data-id", r.id);
    li.setAttribute("data-seq", r.seq);
    li.setAttribute("data-key", key(r));
    li.appendChild(el("span", "", r.label + " — "));
    li.appendChild(el("strong", "queue-state", stateOf(r)));
    if (r.state === "refused" && r.user === queue.user) li.appendChild(fixForm(r));
    return li;
  }
  function fixField(form, r, field) {
    var msg = [].concat(r.errors[field]).join(" "), v = r.body[field];
    form.appendChild(el("p", "field-error", (FIELDS[field] ? FIELDS[field] + " : " : "") + msg));
    if (!EDITABLE[field]) return;  // never an internal id or a list as a text field
    var label = el("label", "", FIELDS[field]), input = el("input");
    input.id = label.htmlFor = "fix-" + r.seq + "-" + field;
    input.name = field;
    input.type = "number";
    input.inputMode = "numeric";
    input.value = v === undefined ? "" : v;
    form.appendChild(label);
    form.appendChild(input);
  }
  function fixForm(r) {
    var form = el("form", "queue-fix");
    form.appendChild(el("p", "", messages.errors));
    Object.keys(r.errors || {}).forEach(function (field) { fixField(form, r, field); });
    var again = el("button", "primary", messages.fix), drop = el("button", "", messages.discard), actions = el("p", "actions");
    again.type = "submit";
    drop.type = "button";
    drop.setAttribute("data-discard", r.seq);
    actions.appendChild(again);
    actions.appendChild(drop);
    form.appendChild(actions);
    form.addEventListener("input", function () { form.parentNode.setAttribute("data-dirty", ""); });
    form.addEventListener("submit", function (ev) { ev.preventDefault(); retry(r, form); });
    return form;
  }
  function retry(r, form) {  // over the stored record, only if it is still the refused version shown
    var typed = {};
    Array.prototype.forEach.call(form.querySelectorAll("input"), function (input) { typed[input.name] = input.value; });
    queue.update(r.seq, function (rec) {
      if (rec.v !== r.v || rec.state !== "refused") return false;
      Object.keys(typed).forEach(function (name) {
        rec.body[name] = typeof rec.body[name] === "number" ? Number(typed[name]) : typed[name];
      });
      rec.state = "queued";
      delete rec.errors;
    }).then(function () {
      form.parentNode.removeAttribute("data-dirty");
      if (form.contains(document.activeElement)) document.activeElement.blur();
      queue.render();
      return queue.sync();
    });
  }
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest("[data-discard]");
    if (b && window.confirm(messages.confirmDiscard)) queue.remove(Number(b.getAttribute("data-discard"))).then(queue.render);
    if (ev.target.id === "queue-sync") queue.sync();
  });
  window.outreachQueuePage = { draw: draw };
  queue.render();
})();
