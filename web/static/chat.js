// Tandem chat page: a small client of the REST channel (POST /api/v1/bots/{bot}/messages).
// The visitor id lives in localStorage so a returning visitor is the same customer; the
// conversation id is kept per bot so a reload shows the transcript and continues it.
// While a human agent has the conversation, the page polls its transcript
// (GET /api/v1/conversations/{id}) every few seconds and shows the agent's replies, until
// the agent gives the conversation back to the bot or closes it.
(function () {
  "use strict";

  var root = document.getElementById("chat");
  var bot = root.dataset.bot;
  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var input = document.getElementById("message");
  var sendButton = document.getElementById("send");
  var statusLine = document.getElementById("status");
  var errorBox = document.getElementById("error");
  var newChat = document.getElementById("new-chat");

  var visitorKey = "tandem.visitor";
  var conversationKey = "tandem.conversation." + bot;
  var busy = false;

  function load(key) {
    try { return window.localStorage.getItem(key) || ""; } catch (e) { return ""; }
  }
  function store(key, value) {
    try {
      if (value) { window.localStorage.setItem(key, value); } else { window.localStorage.removeItem(key); }
    } catch (e) { /* storage disabled: the id lives for this page only */ }
  }
  function randomId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  var visitor = load(visitorKey);
  if (!visitor) {
    visitor = "web-" + randomId();
    store(visitorKey, visitor);
  }
  var conversation = load(conversationKey);

  var pollMillis = 3000;
  var pollTimer = null;
  var seen = {}; // ids of transcript messages already handled

  // safeURL returns an absolute http(s) URL or "" so a citation can never run script.
  function safeURL(raw) {
    if (!raw) { return ""; }
    try {
      var u = new URL(raw, window.location.href);
      return (u.protocol === "http:" || u.protocol === "https:") ? u.href : "";
    } catch (e) { return ""; }
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function who(role) {
    switch (role) {
      case "customer": return "You";
      case "agent": return "Agent";
      case "system": return "Notice";
      default: return bot;
    }
  }

  function renderCitations(citations) {
    var box = el("div", "citations");
    box.appendChild(el("span", "citations-title", "Sources"));
    var list = el("ol");
    citations.forEach(function (c) {
      var item = el("li", "citation");
      item.dataset.docId = c.doc_id || "";
      var href = safeURL(c.url);
      var label = c.title || c.doc_id || "source";
      if (href) {
        var a = el("a", "", label);
        a.href = href;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        item.appendChild(a);
      } else {
        item.appendChild(el("span", "", label));
      }
      list.appendChild(item);
    });
    box.appendChild(list);
    return box;
  }

  function renderQuickReplies(replies) {
    var box = el("div", "quick-replies");
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", "Suggested replies");
    replies.forEach(function (q) {
      var b = el("button", "quick-reply", q.title);
      b.type = "button";
      b.addEventListener("click", function () {
        send(q.payload || q.title, q.title);
      });
      box.appendChild(b);
    });
    return box;
  }

  function addMessage(role, text, extra) {
    extra = extra || {};
    var item = el("li", "msg msg-" + role);
    item.appendChild(el("span", "msg-who", who(role)));
    item.appendChild(el("div", "msg-text", text));
    if (extra.citations && extra.citations.length) {
      item.appendChild(renderCitations(extra.citations));
    }
    if (extra.quickReplies && extra.quickReplies.length) {
      item.appendChild(renderQuickReplies(extra.quickReplies));
    }
    log.appendChild(item);
    item.scrollIntoView({ block: "end" });
    return item;
  }

  // Quick replies answer the latest bot message only.
  function clearQuickReplies() {
    Array.prototype.forEach.call(log.querySelectorAll(".quick-replies"), function (n) { n.remove(); });
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
  }
  function hideError() {
    errorBox.textContent = "";
    errorBox.hidden = true;
  }

  function setBusy(b) {
    busy = b;
    sendButton.disabled = b;
    root.dataset.state = b ? "busy" : "idle";
    statusLine.textContent = b ? bot + " is typing…" : "";
  }

  function errorMessage(status, data) {
    if (data && data.error && data.error.message) { return data.error.message; }
    return "The request failed (HTTP " + status + "). Please try again.";
  }

  function send(text, shown) {
    if (busy) { return; }
    hideError();
    clearQuickReplies();
    addMessage("customer", shown || text);
    setBusy(true);
    var body = { user: visitor, text: text, message_id: randomId() };
    if (conversation) { body.conversation_id = conversation; }
    fetch("/api/v1/bots/" + encodeURIComponent(bot) + "/messages", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (res) {
      return res.json().catch(function () { return null; }).then(function (data) {
        if (!res.ok) {
          showError(errorMessage(res.status, data));
          return;
        }
        conversation = data.conversation_id || conversation;
        store(conversationKey, conversation);
        (data.replies || []).forEach(function (r) {
          addMessage("bot", r.text, { citations: r.citations, quickReplies: r.quick_replies });
        });
        if (data.handoff) {
          addMessage("system", "A member of our team will join this conversation.");
        }
        if (data.handoff || (data.decision && data.decision.kind === "relay")) {
          startPolling();
        }
      });
    }).catch(function () {
      showError("Could not reach the server. Please check your connection and try again.");
    }).then(function () {
      setBusy(false);
      input.focus();
    });
  }

  function restore() {
    if (!conversation) { return; }
    fetch("/api/v1/conversations/" + encodeURIComponent(conversation), {
      headers: { "Accept": "application/json" }
    }).then(function (res) {
      if (res.status === 404) {
        conversation = "";
        store(conversationKey, "");
        return null;
      }
      return res.ok ? res.json() : null;
    }).then(function (data) {
      if (!data) { return; }
      var fresh = !log.children.length;
      (data.messages || []).forEach(function (m) {
        seen[m.id] = true;
        if (fresh) { addMessage(m.role, m.text, { citations: m.citations }); }
      });
      if (data.status === "handoff") { startPolling(); }
    }).catch(function () { /* an empty page is fine */ });
  }

  // startPolling watches the transcript for agent replies while a human has the conversation.
  function startPolling() {
    if (pollTimer || !conversation) { return; }
    root.dataset.human = "true";
    pollTimer = window.setTimeout(poll, pollMillis);
  }

  function stopPolling() {
    if (pollTimer) { window.clearTimeout(pollTimer); }
    pollTimer = null;
    root.dataset.human = "false";
  }

  function poll() {
    var polled = conversation;
    fetch("/api/v1/conversations/" + encodeURIComponent(polled) + "?limit=50", {
      headers: { "Accept": "application/json" }
    }).then(function (res) {
      return res.ok ? res.json() : null;
    }).then(function (data) {
      pollTimer = null;
      if (polled !== conversation) { return; } // a new conversation was started meanwhile
      if (!data) { pollTimer = window.setTimeout(poll, 2 * pollMillis); return; }
      (data.messages || []).forEach(function (m) {
        if (seen[m.id]) { return; }
        seen[m.id] = true;
        // Customer and bot messages of this page were shown when they were sent.
        if (m.role === "agent") { addMessage("agent", m.text); }
      });
      if (data.status === "handoff") {
        pollTimer = window.setTimeout(poll, pollMillis);
        return;
      }
      root.dataset.human = "false";
      addMessage("system", data.status === "closed" ?
        "Our team closed this conversation. Write again any time." :
        bot + " is back to help you.");
    }).catch(function () {
      pollTimer = window.setTimeout(poll, 2 * pollMillis);
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text || busy) { return; }
    input.value = "";
    send(text);
  });

  newChat.addEventListener("click", function () {
    stopPolling();
    seen = {};
    conversation = "";
    store(conversationKey, "");
    log.replaceChildren();
    hideError();
    input.focus();
  });

  root.dataset.state = "idle";
  restore();
}());
