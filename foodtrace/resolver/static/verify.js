/* The verified badge: checks this page against the log and the chain, in the browser.

   For every record the page shows: SHA-256(0x00 || leaf data) is its leaf hash; the
   inclusion proof (RFC 9162 §2.1.3.2) leads from it to the root of a checkpoint; the
   checkpoint is a C2SP signed note whose Ed25519 signature must verify under the log's key;
   that root is the one anchored on chain (read from the contract with eth_call when a
   public RPC URL is configured). Then every shown value marked data-rec/data-path is
   compared with the verified entry, formatted as the server formats it (display.py), so a
   projection table changed behind the log's back is caught as well as a changed entry.
   A record newer than the log's latest signed checkpoint comes "pending", without a proof:
   it cannot be verified yet, so the badge says so instead of claiming it verified. */
(function () {
  "use strict";
  var el = document.getElementById("ft-proofs");
  if (!el) return;
  var P = JSON.parse(el.textContent);
  var subtle = (window.crypto && window.crypto.subtle) || null;
  var enc = new TextEncoder();

  function b64(s) {
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function hex(bytes) {
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function concat() {
    var n = 0, i;
    for (i = 0; i < arguments.length; i++) n += arguments[i].length;
    var out = new Uint8Array(n), off = 0;
    for (i = 0; i < arguments.length; i++) { out.set(arguments[i], off); off += arguments[i].length; }
    return out;
  }
  function equal(a, b) {
    if (a.length !== b.length) return false;
    for (var i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  function sha256(bytes) {
    if (subtle) return subtle.digest("SHA-256", bytes).then(function (d) { return new Uint8Array(d); });
    return Promise.resolve(window.ftSha256(bytes));
  }
  var LEAF = new Uint8Array([0]), NODE = new Uint8Array([1]);

  /* RFC 9162 §2.1.3.2, with arithmetic instead of 32-bit bit operations. */
  function rootFromInclusion(index, size, leaf, proof) {
    if (index >= size) return Promise.reject(new Error("index beyond tree size"));
    var fn = index, sn = size - 1, r = leaf, i = 0;
    function step() {
      if (i === proof.length) {
        if (sn !== 0) return Promise.reject(new Error("proof too short"));
        return Promise.resolve(r);
      }
      var p = proof[i++];
      if (sn === 0) return Promise.reject(new Error("proof too long"));
      var next;
      if (fn % 2 === 1 || fn === sn) {
        next = sha256(concat(NODE, p, r)).then(function (h) {
          r = h;
          if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
        });
      } else {
        next = sha256(concat(NODE, r, p)).then(function (h) { r = h; });
      }
      return next.then(function () { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); return step(); });
    }
    return step();
  }

  function parseVerifierKey(text) {
    var a = text.indexOf("+"), b = text.indexOf("+", a + 1);
    var name = text.slice(0, a), hint = text.slice(a + 1, b), blob = b64(text.slice(b + 1));
    if (blob.length !== 33 || blob[0] !== 1) throw new Error("not an Ed25519 verifier key");
    return {name: name, hint: hint, key: blob.slice(1)};
  }

  /* "unsupported" when this browser has no WebCrypto Ed25519; true/false otherwise. */
  function verifyEd25519(pub, sig, msg) {
    if (!subtle) return Promise.resolve("unsupported");
    return subtle.importKey("raw", pub, {name: "Ed25519"}, false, ["verify"]).then(
      function (key) { return subtle.verify({name: "Ed25519"}, key, sig, msg); },
      function () { return "unsupported"; });
  }

  function checkCheckpoint(note, vkey) {
    var sep = note.lastIndexOf("\n\n");
    var body = note.slice(0, sep + 1), lines = body.split("\n");
    var cp = {origin: lines[0], size: Number(lines[1]), root: b64(lines[2]), signature: false};
    if (cp.origin !== vkey.name) return Promise.resolve(cp);
    var sigs = note.slice(sep + 2).split("\n").filter(function (l) { return l; });
    var mine = null;
    sigs.forEach(function (line) {
      var rest = line.replace(/^\u2014 /, ""), at = rest.lastIndexOf(" ");
      var blob = b64(rest.slice(at + 1));
      if (rest.slice(0, at) === vkey.name && hex(blob.slice(0, 4)) === vkey.hint) mine = blob.slice(4);
    });
    if (!mine) return Promise.resolve(cp);
    return verifyEd25519(vkey.key, mine, enc.encode(body)).then(function (ok) { cp.signature = ok; return cp; });
  }

  function pointer(obj, path) {
    var parts = path.split("/").slice(1);
    for (var i = 0; i < parts.length; i++) {
      if (obj === null || obj === undefined) return undefined;
      obj = obj[parts[i].replace(/~1/g, "/").replace(/~0/g, "~")];
    }
    return obj;
  }
  function cbvWord(v) { v = v.split(":").pop(); return v.split("-").pop(); }
  function pad(n) { return ("0" + n).slice(-2); }
  function fmtTime(v) {
    var d = new Date(v);
    if (isNaN(d.getTime())) return String(v);
    var t = new Date(d.getTime() + 8 * 3600 * 1000);
    return t.getUTCFullYear() + "-" + pad(t.getUTCMonth() + 1) + "-" + pad(t.getUTCDate()) + " " +
      pad(t.getUTCHours()) + ":" + pad(t.getUTCMinutes());
  }
  function show(fmt, v) {
    if (v === null || v === undefined) return "";
    if (fmt === "time") return fmtTime(v);
    if (fmt === "day") return String(v).slice(0, 10);
    if (fmt === "num") return String(Number(v));
    var table = P.formats[fmt], s = String(v);
    if (!table) return s;
    var key = (fmt === "bizstep" || fmt === "disposition") ? cbvWord(s) : s;
    return Object.prototype.hasOwnProperty.call(table, key) ? table[key] : s;
  }

  function ethCall(rec) {
    var a = P.anchor;
    var data = P.selector + a.log_id.slice(2) + ("0".repeat(64) + a.tree_size.toString(16)).slice(-64);
    return fetch(P.rpc_url, {
      method: "POST", headers: {"content-type": "application/json"},
      body: JSON.stringify({jsonrpc: "2.0", id: 1, method: "eth_call",
                            params: [{to: a.contract_address, data: data}, "latest"]})
    }).then(function (r) { return r.json(); }).then(function (j) {
      if (!j.result) throw new Error((j.error && j.error.message) || "no result");
      return j.result.slice(2, 66);
    });
  }

  var checks = document.getElementById("checks");
  function note(ok, text) {
    var li = document.createElement("li");
    li.className = ok === true ? "ok" : ok === false ? "bad" : "neutral";
    li.textContent = (ok === true ? "✓ " : ok === false ? "✗ " : "• ") + text;
    checks.appendChild(li);
  }
  function badge(state, text) {
    var b = document.getElementById("badge");
    b.className = "badge " + state;
    b.querySelector(".icon").textContent = state === "verified" ? "✓" : state === "tampered" ? "⚠" : "ⓘ";
    b.querySelector(".text").textContent = text;
    document.body.setAttribute("data-verify", state);
    if (state === "tampered") document.getElementById("badge-details").open = true;
  }

  function run() {
    var vkey = parseVerifierKey(P.verifier_key);
    var tampered = [], unsupported = false, anchored = false, pending = {};
    var cps = {};
    var names = Object.keys(P.checkpoints);
    return sha256(concat(enc.encode(vkey.name + "\n"), new Uint8Array([1]), vkey.key)).then(function (h) {
      if (hex(h.slice(0, 4)) !== vkey.hint) throw new Error("verifier key id does not match the key");
      return Promise.all(names.map(function (size) {
        return checkCheckpoint(P.checkpoints[size], vkey).then(function (cp) { cps[size] = cp; });
      }));
    }).then(function () {
      names.forEach(function (size) {
        var cp = cps[size];
        if (cp.signature === "unsupported") { unsupported = true; note(null, "此浏览器不支持 Ed25519,无法核验日志签名(树大小 " + size + ")"); }
        else if (cp.signature === true) note(true, "日志检查点签名有效(树大小 " + size + ")");
        else { tampered.push("checkpoint"); note(false, "日志检查点签名无效(树大小 " + size + ")"); }
      });
      var entries = {};
      P.records.forEach(function (rec) { if (rec.pending) pending[rec.index] = true; });
      var waiting = Object.keys(pending).length;
      if (waiting) note(null, waiting + " 条记录晚于最新的日志检查点,签入后方可验证");
      return Promise.all(P.records.filter(function (rec) { return !rec.pending; }).map(function (rec) {
        var data = enc.encode(rec.data), cp = cps[rec.checkpoint];
        return sha256(concat(LEAF, data)).then(function (leaf) {
          return rootFromInclusion(rec.index, cp.size, leaf, rec.proof.map(b64));
        }).then(function (root) {
          if (!equal(root, cp.root)) throw new Error("root mismatch");
          entries[rec.index] = JSON.parse(rec.data);
        }).catch(function () {
          entries[rec.index] = null;
          var type = "";
          try { type = JSON.parse(rec.data).type; } catch (e) { /* unparsable: altered */ }
          tampered.push("record " + rec.index);
          note(false, "记录 #" + rec.index + (type ? "(" + type + ")" : "") + " 与存证不符:哈希无法通过包含证明");
        });
      })).then(function () { return entries; });
    }).then(function (entries) {
      var good = P.records.filter(function (r) { return entries[r.index]; }).length;
      if (good) note(true, good + " 条记录的哈希与默克尔包含证明一致");
      var facts = document.querySelectorAll("[data-rec][data-path]"), bad = 0;
      facts = Array.prototype.filter.call(facts, function (f) { return !pending[f.getAttribute("data-rec")]; });
      facts.forEach(function (f) {
        var entry = entries[f.getAttribute("data-rec")];
        var shown = f.hasAttribute("data-value") ? f.getAttribute("data-value") : f.textContent.trim();
        var ok = entry ? show(f.getAttribute("data-fmt") || "", pointer(entry, f.getAttribute("data-path"))) === shown : false;
        if (!ok) { bad++; f.classList.add("tampered"); f.setAttribute("title", "与存证记录不符"); }
      });
      if (bad) { tampered.push("facts"); note(false, bad + " 项显示内容与已验证的记录不一致"); }
      else note(true, facts.length + " 项显示内容与已验证的记录一致");
      var a = P.anchor;
      if (!a) { note(null, "尚未锚定到区块链"); return; }
      var cp = cps[String(a.tree_size)];
      if (cp && hex(cp.root) === hex(b64(a.root))) {
        anchored = true;
        note(true, "根哈希已锚定:区块 " + a.block_number + ",交易 " + (a.tx_hash || "").slice(0, 14) + "…");
      } else note(null, "部分记录晚于最近一次锚定,尚未上链");
      if (!P.rpc_url || !cp) return;
      /* data-chain on <body> tells what the contract said: match, mismatch or unreachable. */
      return ethCall().then(function (onchain) {
        var same = onchain === hex(cp.root);
        document.body.setAttribute("data-chain", same ? "match" : "mismatch");
        if (same) note(true, "已从区块链合约读取根哈希,一致");
        else { tampered.push("chain"); note(false, "区块链合约中的根哈希与日志不一致"); }
      }, function () {
        document.body.setAttribute("data-chain", "unreachable");
        note(null, "无法连接区块链节点读取根哈希");
      });
    }).then(function () {
      if (tampered.length) badge("tampered", "警告:数据可能被篡改,与区块链存证不一致");
      else if (unsupported) badge("unsupported", "记录哈希一致;此浏览器无法验证签名");
      else if (Object.keys(pending).length) badge("pending", "部分记录待验证:尚未签入日志检查点");
      else badge("verified", "已验证:数据与区块链存证一致" + (anchored ? "" : "(待上链)"));
    }).catch(function (e) {
      note(false, "验证出错:" + e.message);
      badge("tampered", "警告:无法完成验证");
    });
  }
  run();
})();
