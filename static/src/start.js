/* The start of a shift (/maraude without an open shift): when the shift is queued on the device
   (no network), show the contact form at once for it; its contacts are queued behind it. The form
   comes from the page's <template id="contact-tpl">; after a reload offline, from the queue. */
(function () {
  "use strict";
  var D = document, Q = window.outreachQueue;
  if (!Q) return;
  function reveal(shift) {
    var tpl = D.getElementById("contact-tpl"), start = D.getElementById("shift-form"), first;
    if (!tpl || !start) return;
    start.after(tpl.content);
    start.remove();
    var form = D.getElementById("contact-form");
    form.elements.shift_id.value = shift.id;
    form.elements.id.value = Q.uuid();
    form.querySelectorAll("[name=sector]").forEach(function (r) {  // the shift's sectors, the first checked
      if (shift.sectors.length && shift.sectors.indexOf(r.value) < 0) r.parentNode.remove();
      else if (!first) first = r.checked = true;
    });
    window.outreachLogInit(form);
  }
  D.addEventListener("outreach:queued", function (ev) {
    if (ev.target.getAttribute("id") == "shift-form") reveal(ev.detail);
  });
  Q.all().then(function (records) {
    var shift = records.filter(function (r) { return r.type == "shift" && r.user == Q.user && r.state != "refused"; }).pop();
    if (shift) reveal(shift.body);
  });
})();
