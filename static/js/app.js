/* outreach: small enhancements only; every page works without this file. */
(function () {
  "use strict";
  // Steppers: +/- buttons next to number inputs marked data-stepper.
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("[data-step]");
    if (!btn) return;
    var input = document.getElementById(btn.getAttribute("data-for"));
    if (!input) return;
    var value = (parseInt(input.value, 10) || 0) + parseInt(btn.getAttribute("data-step"), 10);
    var min = input.min === "" ? 0 : parseInt(input.min, 10);
    input.value = Math.max(min, value);
    input.dispatchEvent(new Event("change", { bubbles: true }));
    ev.preventDefault();
  });
  // Confirmation before destructive actions (forms marked data-confirm).
  document.addEventListener("submit", function (ev) {
    var msg = ev.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) ev.preventDefault();
  });
})();
