/* The tally page (/maraude/compteur, templates/contacts/tally.html; rules in outreach/contacts/tally.py), with
   queue.js. Without this file every button is a plain POST that does the same. */
(function () {
  "use strict";
  // One tap, one record through the queue (sent now, or kept on the device), shown at once: a group or a
  // refusal is a new contact; "+1 au groupe" and the material's buttons set the group's numbers (a replay
  // changes nothing); undo sends the previous numbers back, or removes the group. Sent one after the other.
  // The buttons carry the numbers to reach (as the server draws them): they are the group's state.
  var tally = document.getElementById("tally-form"), tallySent = Promise.resolve(), tallyUndo = [];
  function tallyMaterial() { return tally.getAttribute("data-material"); }
  function tallyButtons() {  // [+1 au groupe, material +1, material one each, undo]
    return ["people_count", "quantity", "quantity", "undo"].map(function (name, i) {
      return tally.querySelectorAll("button[name=" + name + "]")[i == 2 ? 1 : 0] || {};
    });
  }
  function tallyGroup() {
    var buttons = tallyButtons(), id = tally.elements.group.value;
    return { id: id, people: id ? buttons[0].value - 1 : 0, quantity: id ? buttons[1].value - 1 : 0 };
  }
  function tallyShow(group) {
    var buttons = tallyButtons();
    tally.elements.group.value = group.id;
    buttons[0].value = group.people + 1;
    buttons[1].value = group.quantity + 1;
    buttons[2].value = group.people;
    buttons[0].disabled = buttons[2].disabled = !group.id;
    buttons[3].disabled = !tallyUndo.length;
  }
  function tallyCount(moves) {  // the running totals and the shift's contact count
    document.querySelectorAll("#tally-totals [data-total], .contact-count").forEach(function (total) {
      total.textContent = +total.textContent + (moves[total.getAttribute("data-total") || "contacts"] || 0);
    });
  }
  function tallyDo(url, id, body, moves, group, label) {  // shown at once, then sent in turn
    var said = document.getElementById("tally-said"), msg = said.getAttribute("data-msg").split("|");
    tallyCount(moves);
    tallyShow(group);
    body.shift_id = tally.elements.shift_id.value;
    tallySent = tallySent.then(function () {
      return window.outreachQueue.send(body.kind ? "contact" : "tally", url || tally.getAttribute("data-set").replace("ID", id),
                                       body, tally.elements.csrf_token.value, label);
    }).then(function (out) {
      var errors = out.errors || {};
      said.textContent = out.state == "saved" ? msg[body.removed ? 1 : 0] : out.state == "queued" ? msg[2]
        : Object.keys(errors).map(function (name) { return errors[name]; }).join(" ") || msg[3];
    });
  }
  function tallyTap(button) {
    var name = button.name, value = +button.value, code = tallyMaterial(), group = tallyGroup(), refusal = name == "kind";
    var fresh = !(name == "people_count" || (name == "quantity" && group.id)), materials = {}, body, undo;
    var next = fresh ? { id: window.outreachQueue.uuid(), people: name == "people" ? value : 1, quantity: 0 }
      : { id: group.id, people: group.people, quantity: group.quantity };
    if (name == "people_count") next.people = value;
    if (name == "quantity") next.quantity = value;
    if (code) materials[code] = next.quantity;
    if (fresh) {
      body = { id: next.id, kind: refusal ? "refusal" : "anonymous", people_count: next.people, materials: materials,
               occurred_at: window.outreachQueue.iso(), sector: tally.elements.sector.value || undefined };
      undo = { removed: true };
      group = { people: 0, quantity: 0 };
    } else {
      body = { people_count: next.people, material: code, quantity: next.quantity };
      undo = { people_count: group.people, material: code, quantity: group.quantity };
    }
    var moves = { people: refusal ? 0 : next.people - group.people, given: next.quantity - group.quantity,
                  refusals: +refusal, contacts: +fresh };
    tallyUndo.push({ group: tallyGroup(), id: next.id, body: undo, moves: moves });
    tallyDo(fresh && tally.getAttribute("data-api"), next.id, body, moves, refusal ? { id: "", people: 0, quantity: 0 } : next,
            button.textContent);
  }
  function tallyBack(button) {  // take back the last tap
    var last = tallyUndo.pop(), moves = {};
    if (!last) return;
    Object.keys(last.moves).forEach(function (name) { moves[name] = -last.moves[name]; });
    tallyDo(null, last.id, last.body, moves, last.group, button.textContent);
  }
  document.addEventListener("submit", function (ev) {
    var button = ev.submitter;
    if (ev.target != tally || !window.outreachQueue || !button || !button.name) return;
    ev.preventDefault();
    if (button.name == "undo") tallyBack(button); else tallyTap(button);
  });
})();
