// "+ Chat", wherever it is offered (a contact's page, a row of the contact list): write
// first to a contact. One client id per opening of the dialog, so a double click or a
// retry sends once; then the conversation opens in the workspace (or, when the workspace
// itself opened the dialog, ``done`` opens it there).
"use strict";
window.ParleyChat = (function () {
  const dialog = document.getElementById("chat");
  if (!dialog) return null;
  const form = document.getElementById("chat-form");
  const problem = document.getElementById("chat-problem");
  let contact = null;
  let clientId = null;
  let done = null;
  function open(contactId, who, then) {
    contact = contactId;
    done = then || null;
    clientId = "chat-" + crypto.randomUUID();
    form.reset();
    problem.hidden = true;
    document.getElementById("chat-who").textContent = who || "this contact";
    dialog.showModal();
    form.elements.text.focus();
  }
  document.getElementById("chat-cancel").addEventListener("click", () => dialog.close());
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const body = { text: form.elements.text.value, channel: form.elements.channel.value || null, client_id: clientId };
      const ack = await window.ParleyPage.api(`/api/v1/contacts/${contact}/chat`, "POST", body);
      if (done) { dialog.close(); done(ack); } else location.href = `/agent#c=${ack.conversation_id}`;
    } catch (err) {
      problem.textContent = err.message;
      problem.hidden = false;
    }
  });
  return { open };
})();
