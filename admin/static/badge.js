// The red badge beside Conversations on every admin page, as on /agent: the open
// conversations (the user's or unassigned) waiting for an answer, also in the tab title.
"use strict";
(function () {
  const badge = document.getElementById("badge");
  if (!badge) return;
  const title = document.title;
  async function refresh() {
    let b;
    try {
      const r = await fetch("/api/v1/inbox/badge");
      if (!r.ok) return;
      b = await r.json();
    } catch (e) { return; }
    const n = b.unanswered;
    badge.hidden = n === 0;
    badge.textContent = n;
    badge.setAttribute("aria-label", `${b.unread} new, ${n} waiting for a reply`);
    document.title = (n ? `(${n}) ` : "") + title;
  }
  refresh();
  setInterval(() => { if (!document.hidden) refresh(); }, 30000);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
})();
