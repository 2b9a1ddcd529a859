/* SHA-256 in plain JavaScript, for origins without crypto.subtle (plain-http LAN installs);
   static/src/log.js loads it only there. Returns the hex digest of a string's UTF-8 bytes. */
window.outreachSha256 = (function () {
  "use strict";
  return function (str) {
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
  };
})();
