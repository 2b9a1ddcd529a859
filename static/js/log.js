/* Field logging: stage-1 pseudonym digest in the browser (raw inputs never sent), known/new lookup, steppers. */
(function () {
  "use strict";
  var form = document.getElementById("contact-form");
  if (!form) return;
  var RAW = ["pseudo_initial", "pseudo_name", "pseudo_birth"];
  function norm(s) {
    return (s || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toUpperCase()
      .replace(/[^A-Z0-9]/g, " ").replace(/\s+/g, " ").trim();
  }
  function sha256hex(str) {  // pure-JS fallback: crypto.subtle is missing on plain-http LAN origins
    var K = [], H = [], i, j, p = 2, c;
    for (c = 0; c < 64; p++) {
      for (j = 2; j * j <= p && p % j; j++);
      if (j * j > p) { if (c < 8) H[c] = (Math.pow(p, 1 / 2) * 4294967296) | 0; K[c++] = (Math.pow(p, 1 / 3) * 4294967296) | 0; }
    }
    var b = unescape(encodeURIComponent(str)), l = b.length * 8, w = [];
    for (i = 0; i < b.length; i++) w[i >> 2] |= b.charCodeAt(i) << ((3 - i) % 4) * 8;
    w[b.length >> 2] |= 0x80 << ((3 - b.length) % 4) * 8;
    w[((b.length + 8) >> 6) * 16 + 15] = l;
    function r(x, n) { return (x >>> n) | (x << (32 - n)); }
    for (j = 0; j < w.length; j += 16) {
      var a = H.slice(0), W = [];
      for (i = 0; i < 64; i++) {
        if (i < 16) W[i] = w[j + i] | 0;
        else W[i] = (r(W[i - 2], 17) ^ r(W[i - 2], 19) ^ (W[i - 2] >>> 10)) + W[i - 7] +
          (r(W[i - 15], 7) ^ r(W[i - 15], 18) ^ (W[i - 15] >>> 3)) + W[i - 16] | 0;
        var t1 = a[7] + (r(a[4], 6) ^ r(a[4], 11) ^ r(a[4], 25)) + ((a[4] & a[5]) ^ (~a[4] & a[6])) + K[i] + W[i];
        var t2 = (r(a[0], 2) ^ r(a[0], 13) ^ r(a[0], 22)) + ((a[0] & a[1]) ^ (a[0] & a[2]) ^ (a[1] & a[2]));
        a = [(t1 + t2) | 0].concat(a); a[4] = (a[4] + t1) | 0; a.pop();
      }
      for (i = 0; i < 8; i++) H[i] = (H[i] + a[i]) | 0;
    }
    return H.map(function (x) { return ("00000000" + (x >>> 0).toString(16)).slice(-8); }).join("");
  }
  function val(n) { var e = form.elements[n]; return e ? (e.value || "") : ""; }
  function computeDigest() {
    var initial = norm(val("pseudo_initial")).slice(0, 1), name = norm(val("pseudo_name")), birth = val("pseudo_birth").trim();
    if (!/^\d{4}(-\d{2}-\d{2})?$/.test(birth)) birth = "";
    var sex = ({ f: "F", m: "M", x: "X" })[val("pseudo_sex")] || "";
    if (!initial && !name && !birth) return null;
    form.elements.is_weak.value = (initial && name && birth) ? "" : "1";
    return sha256hex([form.getAttribute("data-plan-salt"), initial, name, birth, sex].join("|"));
  }
  var status = document.getElementById("pseudo-status");
  function show(s) { status.textContent = s; }
  function check() {
    var d = computeDigest();
    if (!d) return;
    form.elements.digest.value = d;
    var token = form.elements.csrf_token ? form.elements.csrf_token.value : "";
    fetch(form.getAttribute("data-lookup"), { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token }, body: JSON.stringify({ digest: d }) })
      .then(function (r) { return r.json(); })
      .then(function (j) {
        show((j.known ? "connu·e : vu·e le " + j.last_seen_on + " par " + j.last_seen_team : "nouvelle personne") +
          (form.elements.is_weak.value ? " (code incomplet)" : ""));
      }).catch(function () { show("hors ligne"); });
  }
  var btn = document.getElementById("pseudo-check");
  if (btn) btn.addEventListener("click", check);
  form.addEventListener("change", function (e) { if (e.target.name === "pseudo_sex") check(); });
  form.addEventListener("submit", function () {
    var kind = form.querySelector("input[name=kind]:checked");
    if (kind && kind.value === "known" && !form.elements.digest.value) { var d = computeDigest(); if (d) form.elements.digest.value = d; }
    RAW.concat(["pseudo_sex"]).forEach(function (n) {
      form.querySelectorAll("[name=" + n + "]").forEach(function (e) { e.value = e.type === "radio" ? e.value : ""; e.disabled = true; });
    });
    setTimeout(function () {  // page kept (offline queue): ready for the next contact
      form.querySelectorAll("[name^=pseudo_]").forEach(function (e) { e.disabled = false; e.checked = false; });
      form.elements.digest.value = ""; form.elements.is_weak.value = "";
    }, 0);
  }, true);
  form.querySelectorAll("input[name^=material-]").forEach(function (inp) {
    var b = document.createElement("button"); b.type = "button"; b.textContent = "+1"; b.className = "step";
    b.addEventListener("click", function () { inp.value = (parseInt(inp.value, 10) || 0) + 1; });
    inp.parentNode.appendChild(b);
  });
})();
