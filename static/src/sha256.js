/* PBKDF2-HMAC-SHA-256 in plain JavaScript, for origins without crypto.subtle (plain-http LAN installs):
   static/src/log.js loads it only there. outreachPbkdf2(password, salt, iterations) returns the hex of the
   32 bytes that crypto.subtle.deriveBits({name: "PBKDF2", hash: "SHA-256", salt, iterations}, key, 256)
   gives for the UTF-8 bytes of the two strings. Each round is two SHA-256 compressions, from the HMAC's
   inner and outer states computed once. */
window.outreachPbkdf2 = (function () {
  "use strict";
  var ROUND = new Int32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2]);
  var IV = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  var schedule = new Int32Array(64);

  function compress(h, m, out) {  // one 64-byte block m (16 words) from state h into out (may be h)
    var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7], i, x, y, t1, t2;
    for (i = 0; i < 64; i++) {
      if (i < 16) schedule[i] = m[i];
      else {
        x = schedule[i - 15]; y = schedule[i - 2];
        schedule[i] = (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) + schedule[i - 7] +
          (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)) + schedule[i - 16] | 0;
      }
      t1 = k + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) +
        ((e & f) ^ (~e & g)) + ROUND[i] + schedule[i] | 0;
      t2 = (((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) +
        ((a & b) ^ (a & c) ^ (b & c)) | 0;
      k = g; g = f; f = e; e = d + t1 | 0; d = c; c = b; b = a; a = t1 + t2 | 0;
    }
    out[0] = h[0] + a | 0; out[1] = h[1] + b | 0; out[2] = h[2] + c | 0; out[3] = h[3] + d | 0;
    out[4] = h[4] + e | 0; out[5] = h[5] + f | 0; out[6] = h[6] + g | 0; out[7] = h[7] + k | 0;
    return out;
  }
  function hash(state, before, bytes) {  // SHA-256 of (before bytes already in state) + bytes, padded
    var n = bytes.length, total = before + n, words = new Int32Array(((n + 8) >> 6) * 16 + 16), i;
    for (i = 0; i < n; i++) words[i >> 2] |= bytes[i] << (24 - (i & 3) * 8);
    words[n >> 2] |= 0x80 << (24 - (n & 3) * 8);
    words[words.length - 1] = total * 8;
    words[words.length - 2] = Math.floor(total / 0x20000000);
    var h = new Int32Array(state);
    for (i = 0; i < words.length; i += 16) compress(h, words.subarray(i, i + 16), h);
    return h;
  }
  function bytesOf(words) {
    var out = new Uint8Array(words.length * 4);
    for (var i = 0; i < out.length; i++) out[i] = words[i >> 2] >>> (24 - (i & 3) * 8);
    return out;
  }
  function pad(key, byte) {  // the HMAC key XOR ipad or opad, as one compressed block
    var block = new Uint8Array(64);
    for (var i = 0; i < 64; i++) block[i] = (key[i] || 0) ^ byte;
    return compress(IV, hash16(block), new Int32Array(8));
  }
  function hash16(block) {  // 64 bytes as 16 big-endian words
    var m = new Int32Array(16);
    for (var i = 0; i < 64; i++) m[i >> 2] |= block[i] << (24 - (i & 3) * 8);
    return m;
  }
  return function (password, salt, iterations) {
    var E = new TextEncoder(), key = E.encode(password), s = E.encode(salt), i, j;
    if (key.length > 64) key = bytesOf(hash(IV, 0, key));
    var inner = pad(key, 0x36), outer = pad(key, 0x5c), first = new Uint8Array(s.length + 4);
    first.set(s);
    first[s.length + 3] = 1;  // INT(1): the first (and only) 32-byte block of the derived key
    var block = new Int32Array(16), u = new Int32Array(8);
    block[8] = 0x80000000 | 0;  // a 32-byte message after the 64-byte key block, padded
    block[15] = (64 + 32) * 8;
    block.set(hash(inner, 64, first));
    compress(outer, block, u);
    var t = new Int32Array(u);
    for (i = 1; i < iterations; i++) {
      block.set(u); compress(inner, block, u);
      block.set(u); compress(outer, block, u);
      for (j = 0; j < 8; j++) t[j] ^= u[j];
    }
    return [].map.call(bytesOf(t), function (b) { return (b + 256).toString(16).slice(1); }).join("");
  };
})();
