/* Witnesses are the user's to choose: their cosignature verifier keys and the quorum k come
   only from what the user pinned (the form under the badge, kept in localStorage) or from the
   page link's fragment (#w=<vkey>&w=<vkey>&k=2, which a printed QR or the demo link can
   carry; a fragment never reaches the server). The server's checkpoints may carry any
   cosignature lines: only those by pinned keys that verify count, and with nothing pinned
   the badge claims nothing about witnesses. */
import {b64} from "./bytes.js";
import {verifyConsistency} from "./merkle.js";
import {COSIGNER_KEY, checkCheckpoint, parseVerifierKey} from "./note.js";
import {mark, note} from "./ui.js";

const PIN_KEY = "foodtrace.witnesses";

function quorum(keys, k) {
  const n = parseInt(k, 10);
  return Number.isInteger(n) && n >= 1 ? n : keys.length;
}

/* '+' stays a plus (decodeURIComponent, not form decoding): verifier keys contain it. */
function fragmentPins(hash) {
  const keys = [];
  let k = null;
  for (const part of hash.replace(/^#/, "").split("&")) {
    const at = part.indexOf("=");
    if (at < 0) continue;
    let value;
    try { value = decodeURIComponent(part.slice(at + 1)).trim(); } catch (e) { continue; }
    if (part.slice(0, at) === "w" && value) keys.push(value);
    else if (part.slice(0, at) === "k") k = value;
  }
  return keys.length ? {keys, required: quorum(keys, k), source: "link"} : null;
}

function storedPins() {
  try {
    const p = JSON.parse(window.localStorage.getItem(PIN_KEY) || "null");
    if (p && Array.isArray(p.keys) && p.keys.length) {
      const keys = p.keys.map(String);
      return {keys, required: quorum(keys, p.required), source: "saved"};
    }
  } catch (e) { /* storage disabled or not ours */ }
  return null;
}

export function pinned() {
  return fragmentPins(location.hash) || storedPins() || {keys: [], required: 0, source: "none"};
}

/* The pinned keys that parse as cosigner keys, each once; the others are said to be bad. */
export async function parsePins(pins) {
  const out = [];
  for (const text of pins.keys) {
    try {
      const w = await parseVerifierKey(text, COSIGNER_KEY);
      if (!out.some((o) => o.name === w.name && o.hint === w.hint)) out.push(w);
    } catch (e) {
      note(false, "固定的见证方公钥无效,未使用:" + text.slice(0, 48) + "(" + e.message + ")");
    }
  }
  return out;
}

/* A witness cosigns only trees at least as large as the last it saw, so a smaller
   checkpoint issued later (an aligned anchor) carries no cosignature of its own. The server
   sends the largest cosigned checkpoint with a consistency proof from each shown size below
   it: where the log's signature on it and the proof verify here, the shown checkpoint lies
   in the history the witnesses cosigned and counts as cosigned by them. A proof that fails
   between two checkpoints the log signed is a fork. */
export async function extendThroughConsistency(witnessed, vkey, witnesses, cps, report) {
  if (!witnessed || !witnesses.length) return;
  const big = await checkCheckpoint(witnessed.checkpoint, vkey, witnesses);
  if (big.signature !== true) {
    if (big.signature !== "unsupported") {
      report.tampered.push("checkpoint");
      note(false, "见证方联署的检查点(树大小 " + big.size + ")日志签名无效");
    }
    return;
  }
  for (const size of Object.keys(witnessed.consistency)) {
    const cp = cps[size];
    if (!cp || cp.size >= big.size || !big.cosigned.some((n) => cp.cosigned.indexOf(n) < 0)) continue;
    const ok = await verifyConsistency(cp.size, big.size, witnessed.consistency[size].map(b64), cp.root, big.root);
    if (!ok) {
      report.tampered.push("consistency");
      note(false, "检查点(树大小 " + cp.size + ")与见证方联署的检查点(树大小 " + big.size + ")不一致:日志可能分叉");
      continue;
    }
    cp.cosigned = cp.cosigned.concat(big.cosigned.filter((n) => cp.cosigned.indexOf(n) < 0));
    note(true, "检查点(树大小 " + cp.size + ")包含于见证方联署的检查点(树大小 " + big.size + ")中:一致性证明有效");
  }
}

/* Every checkpoint shown must carry the quorum: a fork shown to some witnesses only cannot
   gather cosignatures from witnesses that saw the other branch. Returns null when nothing
   is pinned, else {count, n, required, met}. */
export function checkWitnesses(pins, witnesses, checkpoints, report) {
  mark("witness-pin", pins.source);
  if (!pins.keys.length) {
    const lines = Math.max(0, ...checkpoints.map((cp) => cp.otherLines));
    if (lines) note(null, "检查点附有 " + lines + " 个其他签名(如见证方联署),但您未固定见证方公钥,本页不据此作任何判断");
    return null;
  }
  if (pins.source === "link") note(null, "见证方公钥来自本页链接(#w=…):给您链接的人选择了见证方;核对无误后可在下方保存");
  const all = checkpoints.length ? witnesses.map((w) => w.name).filter(
    (n) => checkpoints.every((cp) => cp.cosigned.indexOf(n) >= 0)) : [];
  mark("witnesses", all.join(" "));
  for (const w of witnesses) {
    if (all.indexOf(w.name) >= 0) note(true, "见证方 " + w.name + " 已联署检查点");
    else note(null, "见证方 " + w.name + " 未联署本页的检查点");
  }
  const required = pins.required, met = all.length >= required;
  mark("witness-quorum", met ? "met" : "unmet");
  if (met) {
    note(true, all.length + " / " + witnesses.length + " 个您固定的见证方已联署(至少需要 " + required + " 个)");
    report.done.push("witnesses");
  } else {
    note(false, "需要 " + required + " 个见证方联署,仅有 " + all.length + " 个(您固定了 " + witnesses.length + " 个)");
  }
  return {count: all.length, n: witnesses.length, required, met};
}

/* The pin form: one verifier key a line and k; saving replaces any pins from the link. */
export function initWitnessForm(pins) {
  const form = document.getElementById("witness-form");
  if (!form) return;
  const keys = form.querySelector("textarea[name=witnesses]"), k = form.querySelector("input[name=k]");
  keys.value = pins.keys.join("\n");
  k.value = pins.keys.length ? String(pins.required) : "";
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const list = keys.value.split(/\s+/).filter((s) => s);
    try {
      if (list.length) window.localStorage.setItem(PIN_KEY, JSON.stringify({keys: list, required: quorum(list, k.value)}));
      else window.localStorage.removeItem(PIN_KEY);
    } catch (e) { /* storage disabled: nothing kept */ }
    window.history.replaceState(null, "", location.pathname + location.search);
    window.location.reload();
  });
}
