/* The chain, read by this browser. Only when it read the contract itself over a chain RPC
   (the configured one, or one the user picked, kept in localStorage) does the badge say
   "已与区块链核对". It reads anchorAt(logId, size) and compares the root, and logKeyHash(logId)
   and compares it with SHA-256 of the log key used: a swapped log key is caught here. A wrong
   network or a contract missing at the address is "无法连接区块链", not tampering. */
import {hex} from "./bytes.js";
import {sha256} from "./merkle.js";
import {mark, marked, note} from "./ui.js";

const RPC_KEY = "foodtrace.rpc";

function rpcUrl(P) {
  let picked = null;
  try { picked = window.localStorage.getItem(RPC_KEY); } catch (e) { /* storage disabled */ }
  return picked || P.rpc_url || "";
}

async function rpc(url, method, params) {
  const r = await fetch(url, {
    method: "POST", headers: {"content-type": "application/json"},
    body: JSON.stringify({jsonrpc: "2.0", id: 1, method, params}),
  });
  const j = await r.json();
  if (j.result === undefined || j.result === null) {
    const e = new Error((j.error && j.error.message) || "no result");
    e.reverted = !!j.error;
    throw e;
  }
  return j.result;
}

function word(n) { return ("0".repeat(64) + n.toString(16)).slice(-64); }
/* Unreachable: no answer, another chain, or no contract at the address. */
function unreachable(why) { const e = new Error(why); e.unreachable = true; return e; }

async function readChain(P, url, a) {
  const out = {url};
  try {
    out.chainId = parseInt(await rpc(url, "eth_chainId", []), 16);
    if (out.chainId !== a.chain_id) throw unreachable("此节点是链 " + out.chainId + ",锚定在链 " + a.chain_id);
    out.tag = await rpc(url, "eth_blockNumber", []);
    out.block = parseInt(out.tag, 16);
    const code = await rpc(url, "eth_getCode", [a.contract_address, out.tag]);
    if (!code || code === "0x") throw unreachable("此网络上的地址 " + a.contract_address + " 没有合约");
    const res = await rpc(url, "eth_call", [{to: a.contract_address, data: P.selector + a.log_id.slice(2) + word(a.tree_size)}, out.tag]);
    out.root = res.slice(2, 66);
    try {
      const k = await rpc(url, "eth_call", [{to: a.contract_address, data: P.key_selector + a.log_id.slice(2)}, out.tag]);
      out.keyHash = k.slice(2, 66);
    } catch (e) {
      if (!e.reverted) throw e;
      out.keyHash = null;
    }
    return out;
  } catch (e) {
    throw e.unreachable ? e : unreachable("无法连接区块链节点:" + e.message);
  }
}

async function checkKey(c, vkey, report) {
  const kh = hex(await sha256(vkey.key));
  if (c.keyHash === null) {
    mark("key", "unavailable");
    note(null, "此合约不提供日志公钥登记(logKeyHash),未核对日志公钥");
  } else if (/^0+$/.test(c.keyHash)) {
    mark("key", "absent");
    note(null, "区块链上未登记此日志的公钥,未核对日志公钥");
  } else if (c.keyHash === kh) {
    mark("key", "match");
    note(true, "日志公钥 " + vkey.name + "+" + vkey.hint + " 与区块链登记的一致");
  } else {
    mark("key", "mismatch");
    report.tampered.push("key");
    note(false, "本页使用的日志公钥 " + vkey.text + " 与区块链登记的公钥哈希 0x" + c.keyHash + " 不符", "key-mismatch");
  }
}

/* null when no chain was read; else {state: match|mismatch|unreachable, url, chainId, …}. */
export async function checkChain(P, cps, vkey, report) {
  const a = P.anchor;
  if (!a) { note(null, "尚未锚定到区块链"); return null; }
  const cp = cps[String(a.tree_size)];
  if (!cp) { note(null, "部分记录晚于最近一次锚定,尚未上链"); return null; }
  note(null, "服务器称根哈希已锚定:区块 " + a.block_number + ",交易 " + (a.tx_hash || "").slice(0, 14) + "…");
  const url = rpcUrl(P);
  if (!url) { note(null, "未配置区块链节点:本页未读取区块链,仅核验了日志"); return null; }
  /* A node served by this very site (the embedded chain's /chain/rpc) is no independent
     witness: whoever runs the page runs it too. Said so, and the user can pick another. */
  let sameSite = false;
  try { sameSite = new URL(url, location.href).origin === location.origin; } catch (e) { /* bad URL */ }
  mark("rpc", sameSite ? "same-site" : "independent");
  if (P.chain_note) note(null, P.chain_note);
  if (sameSite) note(null, "区块链节点由本站提供:运营方可同时控制本页与该节点;如需独立核对,请在下方填写其他节点");
  let c;
  try {
    c = await readChain(P, url, a);
  } catch (e) {
    mark("chain", "unreachable");
    note(null, "无法连接区块链:" + e.message + "(节点 " + url + ")");
    return {state: "unreachable", url};
  }
  c.sameSite = sameSite;
  const same = c.root === hex(cp.root);
  mark("chain", same ? "match" : "mismatch");
  if (same) note(true, "已从区块链合约读取根哈希,一致(链 " + c.chainId + ",区块 " + c.block + ",节点 " + c.url + ")");
  else { report.tampered.push("chain"); note(false, "区块链合约中的根哈希与日志不一致(链 " + c.chainId + ",区块 " + c.block + ")"); }
  await checkKey(c, vkey, report);
  if (same && marked("key") !== "mismatch") report.done.push("chain");
  c.state = same ? "match" : "mismatch";
  return c;
}

/* The user may read the chain through another RPC (their own node, another provider). */
export function initRpcForm(P) {
  const form = document.getElementById("rpc-form");
  if (!form) return;
  const input = form.querySelector("input[name=rpc]");
  input.value = rpcUrl(P);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    try {
      if (input.value.trim()) window.localStorage.setItem(RPC_KEY, input.value.trim());
      else window.localStorage.removeItem(RPC_KEY);
    } catch (e) { /* storage disabled: this visit only */ }
    window.location.reload();
  });
}
