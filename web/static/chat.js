// Tandem chat page: a small client of the web chat socket (connectors/webchat, /chat/ws).
// The visitor is identified by an HttpOnly cookie the server sets on the handshake. The
// page sends {"type":"message","text","id"} and renders what the server pushes: the
// transcript on (re)connect, the bot's replies to each message (citations as links, quick
// replies as buttons), an agent's replies and status changes live while a human has the
// conversation. After a dropped connection it reconnects, asks for what it missed
// (?after=<last message id>) and resends unanswered messages with their ids, which the
// server drops if they already arrived. While a human has the conversation, the page sends
// {"type":"typing"} at most every 3 seconds as the visitor types, and shows when the agent
// is typing. Nothing polls: the only timer is the reconnect. Under each knowledge answer
// (a bot message with sources) two buttons ask "was this helpful?": a click sends
// {"type":"feedback","message_id","helpful"}; the server confirms with a "feedback" frame,
// and the chosen button stays pressed (the transcript carries the vote after a reload).
// After a 👎 the page offers a short optional comment, sent as the same vote with "comment".
//
// In the chat widget's iframe (/embed, data-embed="true"; see widget.js) the browser sends
// no cookie to the cross-site frame, so the page asks for its visitor's signed token (the
// "tandem.embed" subprotocol), keeps it in its localStorage and offers it back as a
// "tandem.visitor.<token>" subprotocol, never in the URL. It tells the host page, and only
// the origin given in its #origin= fragment, when a message arrives (the unread badge), when
// it has a conversation, and when Escape is pressed; the host page may ask it to focus.
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

  var socket = null;
  var conversation = "";  // the conversation shown
  var lastId = "";        // the newest message the server gave us: our cursor
  var status = "";        // the conversation's status
  var pending = [];       // messages sent and not yet answered, in order: {id, text}
  var shown = {};         // client ids of our messages already in the log
  var retryMillis = 500;
  var retryTimer = null;
  var typedAt = 0;        // when our typing was last sent
  var votes = {};         // message id -> its feedback box
  var asking = {};        // message id -> "vote" (a 👎 just sent) or "comment" (its comment sent)
  var embed = root.dataset.embed === "true" ? embedding() : null;

  // embedding returns the widget iframe's link to its visitor token and its host page.
  function embedding() {
    var tokenKey = "tandem.visitor";
    var params = new URLSearchParams(window.location.hash.slice(1));
    var host = params.get("origin") || "";
    if (!/^https?:\/\/[^\/?#\s]+$/.test(host) || window.parent === window) { host = ""; }
    var color = params.get("color") || "";
    if (/^#([0-9a-fA-F]{3}){1,2}$/.test(color)) {
      document.documentElement.style.setProperty("--accent", color);
      document.documentElement.style.setProperty("--customer", color);
    }
    var token = "";
    try { token = window.localStorage.getItem(tokenKey) || ""; } catch (e) { /* storage blocked: this page load only */ }
    window.addEventListener("message", function (event) {
      if (!host || event.origin !== host || event.source !== window.parent) { return; }
      if (event.data && event.data.type === "tandem:open") { input.focus(); }
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { post("tandem:close"); }
    });
    function post(type) {
      // The target origin makes the browser drop the message unless the parent is the host.
      if (host) { window.parent.postMessage({ type: type }, host); }
    }
    return {
      protocols: function () {
        return token && /^[A-Za-z0-9._-]+$/.test(token) ? ["tandem.embed", "tandem.visitor." + token] : ["tandem.embed"];
      },
      keep: function (t) {
        token = t;
        try { window.localStorage.setItem(tokenKey, t); } catch (e) { /* kept in memory */ }
      },
      post: post
    };
  }

  // announce tells the host page of a message it may not have seen (the unread badge).
  function announce(role) {
    if (embed && role !== "customer") { embed.post("tandem:message"); }
  }

  function randomId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

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
      b.addEventListener("click", function () { send(q.payload || q.title, q.title); });
      box.appendChild(b);
    });
    return box;
  }

  // renderFeedback asks whether knowledge answer id helped; helpful is the vote given
  // before (true, false) or undefined.
  function renderFeedback(id, helpful) {
    var box = el("div", "feedback");
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", "Was this answer helpful?");
    box.appendChild(el("span", "feedback-title", "Helpful?"));
    [[true, "👍", "Helpful"], [false, "👎", "Not helpful"]].forEach(function (v) {
      var b = el("button", "feedback-vote", v[1]);
      b.type = "button";
      b.dataset.helpful = String(v[0]);
      b.setAttribute("aria-label", v[2]);
      b.title = v[2];
      b.addEventListener("click", function () {
        if (!socket || socket.readyState !== WebSocket.OPEN) { showError("Not connected; try again in a moment."); return; }
        hideError();
        asking[id] = v[0] ? "" : "vote";
        socket.send(JSON.stringify({ type: "feedback", message_id: id, helpful: v[0] }));
      });
      box.appendChild(b);
    });
    votes[id] = box;
    showVote(id, helpful);
    return box;
  }

  // askComment offers a short comment on the 👎 just given to message id.
  function askComment(box, id) {
    if (box.querySelector(".feedback-comment")) { return; }
    var f = el("form", "feedback-comment");
    var text = el("input");
    text.type = "text";
    text.maxLength = 500;
    text.placeholder = "What was missing? (optional)";
    text.setAttribute("aria-label", "What was missing?");
    var b = el("button", "", "Send");
    b.type = "submit";
    f.appendChild(text);
    f.appendChild(b);
    f.addEventListener("submit", function (event) {
      event.preventDefault();
      var comment = text.value.trim();
      if (!comment || !socket || socket.readyState !== WebSocket.OPEN) { return; }
      asking[id] = "comment";
      socket.send(JSON.stringify({ type: "feedback", message_id: id, helpful: false, comment: comment }));
    });
    box.appendChild(f);
    text.focus();
  }

  // showVote presses the button of the vote on message id (none when undefined).
  function showVote(id, helpful) {
    var box = votes[id];
    if (!box) { return; }
    var form = box.querySelector(".feedback-comment");
    if (asking[id] === "vote" && helpful === false) {
      askComment(box, id);
    } else if (asking[id] === "comment" && form) {
      form.replaceWith(el("span", "feedback-thanks", "Thanks for telling us."));
    } else if (form) {
      form.remove();
    }
    delete asking[id];
    Array.prototype.forEach.call(box.querySelectorAll(".feedback-vote"), function (b) {
      b.setAttribute("aria-pressed", String(b.dataset.helpful === String(helpful)));
    });
    box.dataset.voted = helpful === undefined ? "" : String(helpful);
  }

  function addMessage(role, text, extra) {
    extra = extra || {};
    var item = el("li", "msg msg-" + role);
    item.appendChild(el("span", "msg-who", who(role)));
    item.appendChild(el("div", "msg-text", text));
    if (extra.citations && extra.citations.length) { item.appendChild(renderCitations(extra.citations)); }
    if (role === "bot" && extra.id && extra.citations && extra.citations.length) {
      item.appendChild(renderFeedback(extra.id, extra.helpful === null ? undefined : extra.helpful));
    }
    if (extra.quickReplies && extra.quickReplies.length) { item.appendChild(renderQuickReplies(extra.quickReplies)); }
    log.appendChild(item);
    item.scrollIntoView({ block: "end" });
  }

  // addStored shows a message of the transcript, unless it is one of ours already shown.
  function addStored(m) {
    if (m.role === "customer" && m.client_id && shown[m.client_id]) { return; }
    if (m.client_id) { shown[m.client_id] = true; }
    addMessage(m.role, m.text, { citations: m.citations, id: m.id, helpful: m.helpful });
  }

  // Quick replies answer the latest bot message only.
  function clearQuickReplies() {
    Array.prototype.forEach.call(log.querySelectorAll(".quick-replies"), function (n) { n.remove(); });
  }

  function showError(message) { errorBox.textContent = message; errorBox.hidden = false; }
  function hideError() { errorBox.textContent = ""; errorBox.hidden = true; }

  // showAgentTyping shows the agent's typing hint; CSS fades it out unless shown again.
  function showAgentTyping() {
    statusLine.textContent = "An agent is typing…";
    statusLine.classList.remove("typing");
    void statusLine.offsetWidth; // restart the animation
    statusLine.classList.add("typing");
  }

  function hideAgentTyping() {
    if (statusLine.classList.contains("typing")) {
      statusLine.classList.remove("typing");
      statusLine.textContent = "";
    }
  }

  function setBusy() {
    hideAgentTyping();
    var busy = pending.length > 0;
    sendButton.disabled = busy;
    root.dataset.state = busy ? "busy" : "idle";
    statusLine.textContent = busy && status !== "handoff" ? bot + " is typing…" : "";
  }

  function answered(id) {
    pending = pending.filter(function (p) { return p.id !== id; });
    setBusy();
  }

  function setStatus(next, announce) {
    if (announce && next !== status) {
      if (next === "handoff") {
        addMessage("system", "A member of our team will join this conversation.");
      } else if (next === "closed") {
        addMessage("system", "Our team closed this conversation. Write again any time.");
      } else if (next === "open" && status === "handoff") {
        addMessage("system", bot + " is back to help you.");
      }
    }
    status = next;
    root.dataset.human = next === "handoff" ? "true" : "false";
  }

  function transmit(p) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: "message", text: p.text, id: p.id }));
    }
  }

  function send(text, label) {
    if (pending.length) { return; }
    hideError();
    clearQuickReplies();
    var p = { id: randomId(), text: text };
    shown[p.id] = true;
    addMessage("customer", label || text);
    pending.push(p);
    setBusy();
    transmit(p); // when closed, it goes out after the reconnect
  }

  function onFrame(f) {
    if (f.last_id) { lastId = f.last_id; }
    switch (f.type) {
      case "transcript":
        if (f.reset) { log.replaceChildren(); shown = {}; votes = {}; pending.forEach(function (p) { shown[p.id] = true; }); }
        conversation = f.conversation_id || conversation;
        (f.messages || []).forEach(addStored);
        if (embed) {
          if (f.visitor_token) { embed.keep(f.visitor_token); }
          if (!f.reset) { (f.messages || []).forEach(function (m) { announce(m.role); }); }
          if (conversation) { embed.post("tandem:active"); }
        }
        setStatus(f.status || status, !f.reset);
        if (f.max_bytes) { input.maxLength = f.max_bytes; }
        pending.forEach(transmit);
        break;
      case "turn":
        conversation = f.conversation_id;
        (f.replies || []).forEach(function (r) {
          addMessage("bot", r.text, { citations: r.citations, quickReplies: r.quick_replies, id: r.id });
        });
        answered(f.id);
        if (embed) { embed.post("tandem:active"); }
        if ((f.replies || []).length) { announce("bot"); }
        break;
      case "message":
        if (f.message.role === "agent") { hideAgentTyping(); }
        addStored(f.message);
        announce(f.message.role);
        break;
      case "typing":
        if (f.role === "agent") { showAgentTyping(); }
        break;
      case "feedback":
        showVote(f.message_id, f.helpful);
        break;
      case "status":
        conversation = f.conversation_id;
        setStatus(f.status, true);
        break;
      case "error":
        showError(f.message || "Something went wrong. Please try again.");
        if (f.code === "rate_limited" && f.id) {
          // Not handled yet: resend it, with its id, when the server allows.
          var again = pending.filter(function (p) { return p.id === f.id; })[0];
          if (again) { window.setTimeout(function () { hideError(); transmit(again); }, f.retry_after_ms || 1000); }
          break;
        }
        if (f.id) { answered(f.id); }
        break;
    }
  }

  function connect() {
    retryTimer = null;
    var q = "?bot=" + encodeURIComponent(bot);
    if (conversation) { q += "&conversation=" + encodeURIComponent(conversation); }
    if (lastId) { q += "&after=" + encodeURIComponent(lastId); }
    var url = (window.location.protocol === "https:" ? "wss://" : "ws://") + window.location.host + "/chat/ws" + q;
    var ws = embed ? new WebSocket(url, embed.protocols()) : new WebSocket(url);
    socket = ws;
    ws.onopen = function () {
      retryMillis = 500;
      root.dataset.connected = "true";
      hideError();
    };
    ws.onmessage = function (event) {
      try { onFrame(JSON.parse(event.data)); } catch (e) { /* not ours to show */ }
    };
    ws.onclose = function () {
      if (socket !== ws) { return; }
      socket = null;
      root.dataset.connected = "false";
      showError("Connection lost. Reconnecting…");
      retryTimer = window.setTimeout(connect, retryMillis);
      retryMillis = Math.min(retryMillis * 2, 15000);
    };
  }

  input.addEventListener("input", function () {
    if (status !== "handoff" || Date.now() - typedAt < 3000 || !socket || socket.readyState !== WebSocket.OPEN) { return; }
    typedAt = Date.now();
    socket.send(JSON.stringify({ type: "typing" }));
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text || pending.length) { return; }
    input.value = "";
    send(text);
    input.focus();
  });

  root.dataset.state = "idle";
  connect();
}());
