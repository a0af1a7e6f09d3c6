// The workspace's contact panel (agent.js opens it): who the contact is, what they did,
// their own tags (added and removed by people with Contacts) and their other
// conversations. People's words are set as text, never as HTML.
"use strict";
window.ParleyPanel = (function () {
  let el, api, nameOf, stamp, open;

  function draw(box, info, tools) {
    ({ el, api, nameOf, stamp, open } = tools);
    const v = info.visitor;
    box.append(el("h2", null, nameOf(v)));
    // "+ Chat": write to the contact on another of their channels, or reopen their latest.
    if (document.body.dataset.contacts === "yes" && window.ParleyChat) {
      const write = el("button", "btn btn-small", "+ Chat");
      write.type = "button";
      write.setAttribute("aria-haspopup", "dialog");
      write.setAttribute("aria-label", `+ Chat with ${nameOf(v)}`);
      write.onclick = () => window.ParleyChat.open(v.id, nameOf(v), (ack) => open(ack.conversation_id));
      box.append(write);
    }
    const dl = el("dl");
    const fact = (k, val) => { if (val != null && val !== "") dl.append(el("dt", null, k), el("dd", null, String(val))); };
    const app = info.channel && info.channel.kind === "sdk";
    // An app's contact is first their phone; a website's, their name. (A name used to be
    // shown as the phone of an app contact who gave none.)
    for (const [k, val] of app ? [["Phone", v.phone], ["Name", v.name]] : [["Name", v.name], ["Phone", v.phone]]) fact(k, val);
    fact("Email", v.email);
    fact("Channel", info.channel && info.channel.name);
    if (info.wrote_from) fact("Wrote from", info.wrote_from.title || info.wrote_from.url);
    if (info.device) fact("Device", [info.device.device, info.device.browser, info.device.os].filter(Boolean).join(" · "));
    fact("Visits", v.visit_count);
    fact("Pages seen", info.pages_seen);
    if (v.page_views && v.page_views.length) fact("Now on", v.page_views[0].title || v.page_views[0].url);
    fact("Conversation tags", (info.tags || []).join(", "));
    const r = info.refs || {};
    fact("Started from", window.ParleyPage.refText(r.conversation));
    fact("First came from", window.ParleyPage.refText(r.first));
    if (r.latest && (!r.first || r.latest.at !== r.first.at)) fact("Lately came from", window.ParleyPage.refText(r.latest));
    if (v.user_id) fact("User id", v.user_id + (v.verified ? " (verified)" : " (unverified)"));
    for (const [k, val] of Object.entries(v.attributes || {})) fact(k, val);
    box.append(dl);
    box.append(contactTags(v));
    if (info.other_conversations.length) {
      box.append(el("h3", null, "Other conversations"));
      const ul = el("ul", "others");
      for (const o of info.other_conversations) {
        const b = el("button", null, `${stamp(o.last_activity_at)} · ${o.status} · ${o.last_preview || "…"}`);
        b.type = "button";
        b.onclick = () => open(o.id);
        const li = el("li");
        li.append(b);
        ul.append(li);
      }
      box.append(ul);
    }
  }

  // The contact's own tags, added and removed by hand (people with Contacts).
  function contactTags(v) {
    const part = el("div", "ctags");
    const ul = el("ul", "chips");
    ul.setAttribute("aria-label", "Contact tags");
    part.append(el("h3", null, "Contact tags"), ul);
    const editable = document.body.dataset.contacts === "yes";
    const draw = (tags) => {
      ul.textContent = "";
      for (const t of tags) {
        const li = el("li", "chip", t);
        if (editable) {
          const x = el("button", "link", "✕");
          x.type = "button";
          x.setAttribute("aria-label", "Remove the tag " + t);
          x.onclick = async () => { draw((await api(`/api/v1/contacts/${v.id}/tags`, { method: "POST", body: { remove: [t] } })).tags); add.elements.tag.focus(); };
          li.append(x);
        }
        ul.append(li);
      }
      if (!tags.length) ul.append(el("li", "muted", "None yet."));
    };
    draw(v.tags || []);
    const add = el("form", "tag-add");
    if (editable) {
      const input = el("input");
      input.name = "tag";
      input.maxLength = 40;
      input.setAttribute("aria-label", "Add a contact tag");
      input.placeholder = "Add a tag";
      const go = el("button", null, "Add");
      go.type = "submit";
      const said = el("span", "state");
      said.setAttribute("role", "status");
      add.append(input, go, said);
      add.onsubmit = async (e) => {
        e.preventDefault();
        const t = input.value.trim();
        if (!t) return;
        try { draw((await api(`/api/v1/contacts/${v.id}/tags`, { method: "POST", body: { add: [t] } })).tags); input.value = ""; said.textContent = ""; }
        catch (err) { said.textContent = err.message; }
      };
      part.append(add);
    }
    return part;
  }

  return { draw };
})();
