/* What the badge says: the list of checks under it, its state, and the <body> attributes
   tests and tools read (data-verify, data-chain, data-key, data-witnesses, …). */
const body = document.body;

export function mark(name, value) {
  body.setAttribute("data-" + name, value);
}

export function marked(name) {
  return body.getAttribute("data-" + name);
}

/* One line under the badge: ok true (✓), false (✗) or null (•, said without a verdict). */
export function note(ok, text, id) {
  const li = document.createElement("li");
  li.className = ok === true ? "ok" : ok === false ? "bad" : "neutral";
  li.textContent = (ok === true ? "✓ " : ok === false ? "✗ " : "• ") + text;
  if (id) li.id = id;
  document.getElementById("checks").appendChild(li);
}

export function badge(state, level, text) {
  const b = document.getElementById("badge");
  b.className = "badge " + state + " " + level;
  b.querySelector(".icon").textContent = state === "tampered" ? "⚠" : level === "chain" || level === "log" ? "✓" : "ⓘ";
  b.querySelector(".text").textContent = text;
  mark("verify", state);
  if (state === "tampered") document.getElementById("badge-details").open = true;
}

export function host(url) {
  try { return new URL(url).host; } catch (e) { return url; }
}
