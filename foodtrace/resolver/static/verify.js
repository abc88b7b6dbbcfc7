/* The badge: checks this page in the browser, and says exactly which checks it made.

   Log (merkle.js, note.js, facts.js): for every record the page shows, SHA-256(0x00 ||
   leaf data) is its leaf hash; the inclusion proof leads from it to the root of a
   checkpoint; the checkpoint is a C2SP signed note whose Ed25519 signature must verify
   under the log's key; every shown value marked data-rec/data-path must equal the verified
   entry. That alone proves only that the operator's own log agrees with itself: the key and
   the proofs came from the operator. So the badge then says "日志已验证", nothing more.
   Witnesses (witnesses.js): cosignatures by the witnesses the user pinned, k of n; nothing
   claimed when none are pinned.
   Chain (chain.js): "已与区块链核对" only when this browser read the root and the log key's
   hash from the contract itself.
   <body> carries the outcome for tests and tools: data-verify, data-chain (match, mismatch,
   unreachable), data-key, data-witnesses, data-witness-quorum, data-witness-pin, data-checks
   and data-ed25519. */
import {b64, enc, equal} from "./bytes.js";
import {checkChain, initRpcForm} from "./chain.js";
import {engines} from "./ed25519.js";
import {checkFacts} from "./facts.js";
import {leafHash, rootFromInclusion} from "./merkle.js";
import {LOG_KEY, checkCheckpoint, parseVerifierKey} from "./note.js";
import {badge, host, mark, note} from "./ui.js";
import {checkWitnesses, extendThroughConsistency, initWitnessForm, parsePins, pinned} from "./witnesses.js";

async function checkRecords(P, cps, pending, report) {
  const entries = {};
  await Promise.all(P.records.filter((rec) => !rec.pending).map(async (rec) => {
    const cp = cps[rec.checkpoint];
    try {
      const leaf = await leafHash(enc.encode(rec.data));
      const root = await rootFromInclusion(rec.index, cp.size, leaf, rec.proof.map(b64));
      if (!equal(root, cp.root)) throw new Error("root mismatch");
      entries[rec.index] = JSON.parse(rec.data);
    } catch (e) {
      entries[rec.index] = null;
      let type = "";
      try { type = JSON.parse(rec.data).type; } catch (e2) { /* unparsable: altered */ }
      report.tampered.push("record " + rec.index);
      note(false, "记录 #" + rec.index + (type ? "(" + type + ")" : "") + " 与存证不符:哈希无法通过包含证明");
    }
  }));
  return entries;
}

function verdict(report, unsupported, pending, witnessed, chain) {
  const w = witnessed ? " · 见证 " + witnessed.count + "/" + witnessed.n : "";
  const t = report.tampered;
  if (t.length) {
    const what = t.indexOf("key") >= 0 ? "日志公钥与区块链登记的不符" :
      t.indexOf("chain") >= 0 ? "与区块链存证不一致" : "与日志证明不一致";
    badge("tampered", "bad", "警告:数据可能被篡改," + what);
  } else if (unsupported) badge("unsupported", "warn", "记录哈希一致;此浏览器无法验证签名");
  else if (Object.keys(pending).length) badge("pending", "neutral", "部分记录待验证:尚未签入日志检查点");
  else if (witnessed && !witnessed.met) badge("unwitnessed", "warn", "日志已验证,但见证方签名不足" + w);
  else if (chain && chain.state === "match") badge("verified", "chain", "已与区块链核对" + (chain.sameSite ? "(本站节点)" : "") + ":链 " + chain.chainId + " · 区块 " + chain.block + " · 节点 " + host(chain.url) + w);
  else if (chain && chain.state === "unreachable") badge("verified", "warn", "日志已验证 · 无法连接区块链" + w);
  else badge("verified", "log", "日志已验证" + w);
}

async function run(P, pins) {
  const report = {tampered: [], done: []}, pending = {}, cps = {};
  let unsupported = false;
  const names = Object.keys(P.checkpoints);
  const vkey = await parseVerifierKey(P.verifier_key, LOG_KEY);
  const witnesses = await parsePins(pins);
  await Promise.all(names.map(async (size) => { cps[size] = await checkCheckpoint(P.checkpoints[size], vkey, witnesses); }));
  for (const size of names) {
    const cp = cps[size];
    if (cp.signature === "unsupported") { unsupported = true; note(null, "此浏览器无法核验 Ed25519 签名(树大小 " + size + ")"); }
    else if (cp.signature === true) note(true, "日志检查点签名有效(树大小 " + size + ",公钥 " + vkey.name + "+" + vkey.hint + ")");
    else { report.tampered.push("checkpoint"); note(false, "日志检查点签名无效(树大小 " + size + ")"); }
  }
  await extendThroughConsistency(P.witnessed, vkey, witnesses, cps, report);
  mark("ed25519", Object.keys(engines).sort().join(" "));
  P.records.forEach((rec) => { if (rec.pending) pending[rec.index] = true; });
  const waiting = Object.keys(pending).length;
  if (waiting) note(null, waiting + " 条记录晚于最新的日志检查点,签入后方可验证");
  const entries = await checkRecords(P, cps, pending, report);
  const good = P.records.filter((r) => entries[r.index]).length;
  if (good) note(true, good + " 条记录的哈希与默克尔包含证明一致");
  const facts = checkFacts(entries, pending, P.formats);
  if (facts.bad) { report.tampered.push("facts"); note(false, facts.bad + " 项显示内容与已验证的记录不一致"); }
  else note(true, facts.checked + " 项显示内容与已验证的记录一致");
  if (!report.tampered.length && !unsupported && names.length) report.done.push("log");
  const witnessed = checkWitnesses(pins, witnesses, names.map((s) => cps[s]), report);
  const chain = await checkChain(P, cps, vkey, report);
  mark("checks", report.done.join(" "));
  verdict(report, unsupported, pending, witnessed, chain);
}

const el = document.getElementById("ft-proofs");
if (el) {
  const P = JSON.parse(el.textContent), pins = pinned();
  initRpcForm(P);
  initWitnessForm(pins);
  run(P, pins).catch((e) => {
    note(false, "验证出错:" + e.message);
    badge("tampered", "bad", "警告:无法完成验证");
  });
}
