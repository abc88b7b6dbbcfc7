/* The values the page shows (elements with data-rec and data-path) against the verified
   entries, each formatted as the server formats it (display.py). */
function pointer(obj, path) {
  for (const part of path.split("/").slice(1)) {
    if (obj === null || obj === undefined) return undefined;
    obj = obj[part.replace(/~1/g, "/").replace(/~0/g, "~")];
  }
  return obj;
}

function cbvWord(v) { return v.split(":").pop().split("-").pop(); }
function pad(n) { return ("0" + n).slice(-2); }

function fmtTime(v) {
  const d = new Date(v);
  if (isNaN(d.getTime())) return String(v);
  const t = new Date(d.getTime() + 8 * 3600 * 1000);
  return t.getUTCFullYear() + "-" + pad(t.getUTCMonth() + 1) + "-" + pad(t.getUTCDate()) + " " +
    pad(t.getUTCHours()) + ":" + pad(t.getUTCMinutes());
}

function show(formats, fmt, v) {
  if (v === null || v === undefined) return "";
  if (fmt === "time") return fmtTime(v);
  if (fmt === "day") return String(v).slice(0, 10);
  if (fmt === "num") return String(Number(v));
  const table = formats[fmt], s = String(v);
  if (!table) return s;
  const key = (fmt === "bizstep" || fmt === "disposition") ? cbvWord(s) : s;
  return Object.prototype.hasOwnProperty.call(table, key) ? table[key] : s;
}

/* Marks each shown value that differs from its verified entry; returns {checked, bad}. */
export function checkFacts(entries, pending, formats) {
  const facts = Array.prototype.filter.call(
    document.querySelectorAll("[data-rec][data-path]"), (f) => !pending[f.getAttribute("data-rec")]);
  let bad = 0;
  for (const f of facts) {
    const entry = entries[f.getAttribute("data-rec")];
    const shown = f.hasAttribute("data-value") ? f.getAttribute("data-value") : f.textContent.trim();
    const ok = entry ? show(formats, f.getAttribute("data-fmt") || "", pointer(entry, f.getAttribute("data-path"))) === shown : false;
    if (!ok) { bad++; f.classList.add("tampered"); f.setAttribute("title", "与存证记录不符"); }
  }
  return {checked: facts.length, bad};
}
