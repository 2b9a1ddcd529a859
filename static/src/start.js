/* The start of a shift (/maraude without an open shift): when the shift is queued on the device
   (no network), show the contact form, the site observation form and the close form at once for it; its
   contacts, observations and close are queued behind it. The forms come from the page's
   <template id="contact-tpl">, <template id="observe-tpl"> and <template id="close-tpl">; after a reload offline, from the queue. A shift whose close is queued
   is over: the start form stays for the next one. */
(function () {
  "use strict";
  var doc = document, queue = window.outreachQueue, PLACEHOLDER = "queued-shift";
  if (!queue) return;
  function reveal(shift) {
    var tpl = doc.getElementById("contact-tpl"), closeTpl = doc.getElementById("close-tpl"),
        observeTpl = doc.getElementById("observe-tpl"), start = doc.getElementById("shift-form"), first;
    if (!tpl || !start) return;
    if (closeTpl) start.after(closeTpl.content);
    if (observeTpl) start.after(observeTpl.content);
    start.after(tpl.content);  // first: contact, observation, close
    start.remove();
    var form = doc.getElementById("contact-form"), close = doc.getElementById("shift-close-form"),
        observe = doc.getElementById("site-observation-form");
    form.elements.shift_id.value = shift.id;
    form.elements.id.value = queue.uuid();
    form.querySelectorAll("[name=sector]").forEach(function (r) {  // the shift's sectors, the first checked
      if (shift.sectors.length && shift.sectors.indexOf(r.value) < 0) r.parentNode.remove();
      else if (!first) first = r.checked = true;
    });
    if (close) ["action", "data-api"].forEach(function (name) {
      close.setAttribute(name, close.getAttribute(name).replace(PLACEHOLDER, shift.id));
    });
    if (observe) {
      observe.setAttribute("action", observe.getAttribute("action").replace(PLACEHOLDER, shift.id));
      observe.elements.shift_id.value = shift.id;
      observe.elements.id.value = queue.uuid();
    }
    window.outreachLogInit(form);
  }
  doc.addEventListener("outreach:queued", function (ev) {
    var id = ev.target.getAttribute("id");
    if (id == "shift-form") reveal(ev.detail);
    else if (id == "shift-close-form") location.reload();  // the shift is over: the start form again
  });
  queue.all().then(function (records) {
    var mine = records.filter(function (r) { return r.user == queue.user && r.state != "refused"; });
    var closed = mine.filter(function (r) { return r.type == "close"; }).map(function (r) { return r.shiftId; });
    var shift = mine.filter(function (r) { return r.type == "shift" && closed.indexOf(r.id) < 0; }).pop();
    if (shift) reveal(shift.body);
  });
})();
