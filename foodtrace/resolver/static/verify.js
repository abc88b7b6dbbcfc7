/* The badge: checks this page in the browser, and says exactly which checks it made.

   Log: for every record the page shows, SHA-256(0x00 || leaf data) is its leaf hash; the
   inclusion proof (RFC 9162 §2.1.3.2) leads from it to the root of a checkpoint; the
   checkpoint is a C2SP signed note whose Ed25519 signature must verify under the log's key;
   every shown value marked data-rec/data-path must equal the verified entry, formatted as the
   server formats it (display.py). That alone proves only that the operator's own log agrees
   with itself: the key and the proofs came from the operator. So the badge then says
   "日志已验证", nothing more.
   Chain: only when this browser itself read the contract over a chain RPC (the configured
   one, or one the user picked, kept in localStorage) does it say "已与区块链核对", naming the
   chain, the block it read at and the RPC. It reads anchorAt(logId, size) and compares the
   root, and logKeyHash(logId) and compares it with SHA-256 of the log key used above: a
   swapped log key is caught here. A wrong network or a contract missing at the address is
   "无法连接区块链", not tampering.
   Witnesses: cosignature/v1 lines (C2SP tlog-cosignature) on the checkpoints, by the named
   witnesses the page lists; with a quorum required, fewer valid cosignatures fail the badge.
   Ed25519 uses WebCrypto when the browser has it, else the vendored @noble/ed25519
   (vendor/noble.js), so in-app browsers without WebCrypto Ed25519 verify too.
   <body> carries the outcome for tests and tools: data-verify, data-chain (match, mismatch,
   unreachable), data-key, data-witnesses, data-checks and data-ed25519. */
(function () {
  "use strict";
  var el = document.getElementById("ft-proofs");
  if (!el) return;
  var P = JSON.parse(el.textContent);
  var subtle = (window.crypto && window.crypto.subtle) || null;
  var noble = window.ftNoble || null;
  var enc = new TextEncoder();
  var RPC_KEY = "foodtrace.rpc";
  var body = document.body;

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
    if (noble) return Promise.resolve(noble.sha256(bytes));
    if (subtle) return subtle.digest("SHA-256", bytes).then(function (d) { return new Uint8Array(d); });
    return Promise.reject(new Error("no SHA-256 in this browser"));
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

  /* name+hex(keyID)+base64(type‖pubkey); type 0x01 for the log, 0x04 for a cosigner. */
  function parseVerifierKey(text, type) {
    var a = text.indexOf("+"), b = text.indexOf("+", a + 1);
    var name = text.slice(0, a), hint = text.slice(a + 1, b), blob = b64(text.slice(b + 1));
    if (blob.length !== 33 || blob[0] !== type) throw new Error("not an Ed25519 verifier key of type " + type);
    var vk = {name: name, hint: hint, type: type, key: blob.slice(1), text: text};
    return sha256(concat(enc.encode(name + "\n"), new Uint8Array([type]), vk.key)).then(function (h) {
      if (hex(h.slice(0, 4)) !== hint) throw new Error("key ID of " + name + " does not match its key");
      return vk;
    });
  }

  var engines = {};
  function nobleVerify(pub, sig, msg) {
    if (!noble) return Promise.resolve("unsupported");
    engines.noble = true;
    try { return Promise.resolve(noble.verify(sig, msg, pub) === true); } catch (e) { return Promise.resolve(false); }
  }
  /* WebCrypto Ed25519 where the browser has it; the vendored noble code everywhere else. */
  function verifyEd25519(pub, sig, msg) {
    if (!subtle || !subtle.importKey) return nobleVerify(pub, sig, msg);
    return Promise.resolve().then(function () {
      return subtle.importKey("raw", pub, {name: "Ed25519"}, false, ["verify"]);
    }).then(function (key) {
      engines.webcrypto = true;
      return subtle.verify({name: "Ed25519"}, key, sig, msg);
    }, function () { return nobleVerify(pub, sig, msg); });
  }

  function splitNote(note) {
    var sep = note.lastIndexOf("\n\n");
    var lines = note.slice(sep + 2).split("\n").filter(function (l) { return l; });
    return {body: note.slice(0, sep + 1), sigs: lines.map(function (line) {
      var rest = line.replace(/^\u2014 /, ""), at = rest.lastIndexOf(" ");
      return {name: rest.slice(0, at), blob: b64(rest.slice(at + 1))};
    })};
  }
  function sigBy(note, vk) {
    for (var i = 0; i < note.sigs.length; i++) {
      var s = note.sigs[i];
      if (s.name === vk.name && hex(s.blob.slice(0, 4)) === vk.hint) return s.blob;
    }
    return null;
  }

  function checkCheckpoint(text, vkey, witnesses) {
    var note = splitNote(text), lines = note.body.split("\n");
    var cp = {origin: lines[0], size: Number(lines[1]), root: b64(lines[2]), signature: false, cosigned: []};
    if (cp.origin !== vkey.name) return Promise.resolve(cp);
    var mine = sigBy(note, vkey);
    var log = mine ? verifyEd25519(vkey.key, mine.slice(4), enc.encode(note.body)) : Promise.resolve(false);
    /* cosignature/v1: keyID(4) ‖ timestamp(u64 big-endian) ‖ Ed25519 signature over
       "cosignature/v1\ntime <t>\n" ‖ the checkpoint body. */
    var cosigs = witnesses.map(function (w) {
      var blob = sigBy(note, w);
      if (!blob || blob.length !== 76) return Promise.resolve(null);
      var t = 0;
      for (var i = 4; i < 12; i++) t = t * 256 + blob[i];
      var msg = enc.encode("cosignature/v1\ntime " + t + "\n" + note.body);
      return verifyEd25519(w.key, blob.slice(12), msg).then(function (ok) { return ok === true ? w.name : null; });
    });
    return Promise.all([log].concat(cosigs)).then(function (r) {
      cp.signature = r[0];
      cp.cosigned = r.slice(1).filter(function (n) { return n; });
      return cp;
    });
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

  /* --- the chain, read by this browser ---------------------------------------------------- */
  function rpcUrl() {
    var picked = null;
    try { picked = window.localStorage.getItem(RPC_KEY); } catch (e) { /* storage disabled */ }
    return picked || P.rpc_url || "";
  }
  function rpc(url, method, params) {
    return fetch(url, {
      method: "POST", headers: {"content-type": "application/json"},
      body: JSON.stringify({jsonrpc: "2.0", id: 1, method: method, params: params})
    }).then(function (r) { return r.json(); }).then(function (j) {
      if (j.result === undefined || j.result === null) {
        var e = new Error((j.error && j.error.message) || "no result");
        e.reverted = !!j.error;
        throw e;
      }
      return j.result;
    });
  }
  function word(n) { return ("0".repeat(64) + n.toString(16)).slice(-64); }
  /* Unreachable: no answer, another chain, or no contract at the address. */
  function unreachable(why) { var e = new Error(why); e.unreachable = true; return e; }
  function readChain(url, a) {
    var out = {url: url};
    return rpc(url, "eth_chainId", []).then(function (id) {
      out.chainId = parseInt(id, 16);
      if (out.chainId !== a.chain_id) throw unreachable("此节点是链 " + out.chainId + ",锚定在链 " + a.chain_id);
      return rpc(url, "eth_blockNumber", []);
    }).then(function (n) {
      out.block = parseInt(n, 16);
      out.tag = n;
      return rpc(url, "eth_getCode", [a.contract_address, n]);
    }).then(function (code) {
      if (!code || code === "0x") throw unreachable("此网络上的地址 " + a.contract_address + " 没有合约");
      var call = {to: a.contract_address, data: P.selector + a.log_id.slice(2) + word(a.tree_size)};
      return rpc(url, "eth_call", [call, out.tag]);
    }).then(function (res) {
      out.root = res.slice(2, 66);
      var call = {to: a.contract_address, data: P.key_selector + a.log_id.slice(2)};
      return rpc(url, "eth_call", [call, out.tag]).then(function (k) { out.keyHash = k.slice(2, 66); },
        function (e) { if (!e.reverted) throw e; out.keyHash = null; });
    }).then(function () { return out; }, function (e) {
      if (!e.unreachable) e = unreachable("无法连接区块链节点:" + e.message);
      throw e;
    });
  }
  function host(url) { try { return new URL(url).host; } catch (e) { return url; } }

  var checks = document.getElementById("checks");
  function note(ok, text, id) {
    var li = document.createElement("li");
    li.className = ok === true ? "ok" : ok === false ? "bad" : "neutral";
    li.textContent = (ok === true ? "✓ " : ok === false ? "✗ " : "• ") + text;
    if (id) li.id = id;
    checks.appendChild(li);
  }
  function badge(state, level, text) {
    var b = document.getElementById("badge");
    b.className = "badge " + state + " " + level;
    b.querySelector(".icon").textContent = state === "tampered" ? "⚠" : level === "chain" || level === "log" ? "✓" : "ⓘ";
    b.querySelector(".text").textContent = text;
    body.setAttribute("data-verify", state);
    if (state === "tampered") document.getElementById("badge-details").open = true;
  }

  function run() {
    var tampered = [], unsupported = false, pending = {}, done = [], cps = {}, vkey, witnesses = [];
    var W = P.witnesses || {keys: [], required: 0};
    var names = Object.keys(P.checkpoints);
    return parseVerifierKey(P.verifier_key, 1).then(function (vk) {
      vkey = vk;
      return Promise.all(W.keys.map(function (k) { return parseVerifierKey(k, 4); }));
    }).then(function (ws) {
      witnesses = ws;
      return Promise.all(names.map(function (size) {
        return checkCheckpoint(P.checkpoints[size], vkey, witnesses).then(function (cp) { cps[size] = cp; });
      }));
    }).then(function () {
      names.forEach(function (size) {
        var cp = cps[size];
        if (cp.signature === "unsupported") { unsupported = true; note(null, "此浏览器无法核验 Ed25519 签名(树大小 " + size + ")"); }
        else if (cp.signature === true) note(true, "日志检查点签名有效(树大小 " + size + ",公钥 " + vkey.name + "+" + vkey.hint + ")");
        else { tampered.push("checkpoint"); note(false, "日志检查点签名无效(树大小 " + size + ")"); }
      });
      body.setAttribute("data-ed25519", Object.keys(engines).sort().join(" "));
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
      if (!tampered.length && !unsupported && names.length) done.push("log");
      return checkWitnesses();
    }).then(checkChain).then(function (chain) {
      body.setAttribute("data-checks", done.join(" "));
      var w = witnessText();
      if (tampered.length) {
        var what = tampered.indexOf("key") >= 0 ? "日志公钥与区块链登记的不符" :
          tampered.indexOf("chain") >= 0 ? "与区块链存证不一致" : "与日志证明不一致";
        badge("tampered", "bad", "警告:数据可能被篡改," + what);
      } else if (unsupported) badge("unsupported", "warn", "记录哈希一致;此浏览器无法验证签名");
      else if (Object.keys(pending).length) badge("pending", "neutral", "部分记录待验证:尚未签入日志检查点");
      else if (W.required && body.getAttribute("data-witness-quorum") !== "met") badge("unwitnessed", "warn", "日志已验证,但见证方签名不足" + w);
      else if (chain && chain.state === "match") badge("verified", "chain", "已与区块链核对" + (chain.sameSite ? "(本站节点)" : "") + ":链 " + chain.chainId + " · 区块 " + chain.block + " · 节点 " + host(chain.url) + w);
      else if (chain && chain.state === "unreachable") badge("verified", "warn", "日志已验证 · 无法连接区块链" + w);
      else badge("verified", "log", "日志已验证" + w);
    }).catch(function (e) {
      note(false, "验证出错:" + e.message);
      badge("tampered", "bad", "警告:无法完成验证");
    });

    /* Every checkpoint shown must carry the quorum: a fork shown to some witnesses only
       cannot gather cosignatures from witnesses that saw the other branch. */
    function checkWitnesses() {
      if (!witnesses.length) return;
      var sizes = names.map(function (s) { return cps[s]; });
      var all = witnesses.map(function (w) { return w.name; }).filter(function (n) {
        return sizes.every(function (cp) { return cp.cosigned.indexOf(n) >= 0; });
      });
      body.setAttribute("data-witnesses", all.join(" "));
      witnesses.forEach(function (w) {
        if (all.indexOf(w.name) >= 0) note(true, "见证方 " + w.name + " 已联署检查点");
        else note(null, "见证方 " + w.name + " 未联署本页的检查点");
      });
      var met = all.length >= (W.required || 1);
      body.setAttribute("data-witness-quorum", met ? "met" : "unmet");
      if (W.required && !met) note(false, "需要 " + W.required + " 个见证方联署,仅有 " + all.length + " 个");
      if (met && all.length) done.push("witnesses");
      P.witnessed = all;
    }
    function witnessText() {
      if (!witnesses.length) return "";
      return " · 见证 " + (P.witnessed || []).length + "/" + witnesses.length;
    }

    function checkChain() {
      var a = P.anchor;
      if (!a) { note(null, "尚未锚定到区块链"); return null; }
      var cp = cps[String(a.tree_size)];
      if (!cp) { note(null, "部分记录晚于最近一次锚定,尚未上链"); return null; }
      note(null, "服务器称根哈希已锚定:区块 " + a.block_number + ",交易 " + (a.tx_hash || "").slice(0, 14) + "…");
      var url = rpcUrl();
      if (!url) { note(null, "未配置区块链节点:本页未读取区块链,仅核验了日志"); return null; }
      /* A node served by this very site (the embedded chain's /chain/rpc) is no independent
         witness: whoever runs the page runs it too. Said so, and the user can pick another. */
      var sameSite = false;
      try { sameSite = new URL(url, location.href).origin === location.origin; } catch (e) { /* bad URL */ }
      body.setAttribute("data-rpc", sameSite ? "same-site" : "independent");
      if (P.chain_note) note(null, P.chain_note);
      if (sameSite) note(null, "区块链节点由本站提供:运营方可同时控制本页与该节点;如需独立核对,请在下方填写其他节点");
      return readChain(url, a).then(function (c) {
        c.sameSite = sameSite;
        var same = c.root === hex(cp.root);
        body.setAttribute("data-chain", same ? "match" : "mismatch");
        if (same) note(true, "已从区块链合约读取根哈希,一致(链 " + c.chainId + ",区块 " + c.block + ",节点 " + c.url + ")");
        else { tampered.push("chain"); note(false, "区块链合约中的根哈希与日志不一致(链 " + c.chainId + ",区块 " + c.block + ")"); }
        return sha256(vkey.key).then(function (kh) {
          if (c.keyHash === null) {
            body.setAttribute("data-key", "unavailable");
            note(null, "此合约不提供日志公钥登记(logKeyHash),未核对日志公钥");
          } else if (/^0+$/.test(c.keyHash)) {
            body.setAttribute("data-key", "absent");
            note(null, "区块链上未登记此日志的公钥,未核对日志公钥");
          } else if (c.keyHash === hex(kh)) {
            body.setAttribute("data-key", "match");
            note(true, "日志公钥 " + vkey.name + "+" + vkey.hint + " 与区块链登记的一致");
          } else {
            body.setAttribute("data-key", "mismatch");
            tampered.push("key");
            note(false, "本页使用的日志公钥 " + vkey.text + " 与区块链登记的公钥哈希 0x" + c.keyHash + " 不符", "key-mismatch");
          }
          if (same && body.getAttribute("data-key") !== "mismatch") done.push("chain");
          c.state = same ? "match" : "mismatch";
          return c;
        });
      }, function (e) {
        body.setAttribute("data-chain", "unreachable");
        note(null, "无法连接区块链:" + e.message + "(节点 " + url + ")");
        return {state: "unreachable", url: url};
      });
    }
  }

  /* The user may read the chain through another RPC (their own node, another provider). */
  var form = document.getElementById("rpc-form");
  if (form) {
    var input = form.querySelector("input[name=rpc]");
    input.value = rpcUrl();
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      try {
        if (input.value.trim()) window.localStorage.setItem(RPC_KEY, input.value.trim());
        else window.localStorage.removeItem(RPC_KEY);
      } catch (e) { /* storage disabled: this visit only */ }
      window.location.reload();
    });
  }
  run();
})();
