// Tandem chat widget. A company pastes one line into its own site:
//
//   <script src="https://support.example.com/widget.js" data-bot="demo" async></script>
//
// Options (data- attributes of that script tag): data-bot (the bot id, required),
// data-title (the panel's title), data-color (#rgb or #rrggbb, the launcher and the chat's
// accent), data-position ("right", the default, or "left").
//
// The script adds a launcher button at a bottom corner of the page; it opens a panel with an
// iframe of the Tandem server's /embed page, the chat itself. Everything the widget draws
// lives in one <tandem-widget> element's shadow root, so the host page's CSS does not reach
// it and its CSS does not leak out; its styles are a constructed stylesheet, which a strict
// Content-Security-Policy of the host page allows. The only global is window.TandemWidget
// ({open, close}). The iframe and this script talk with postMessage, each checking the
// other's origin: the iframe tells of new messages (the unread badge while the panel is
// closed), of Escape pressed in it (close), and that the visitor has a conversation (later
// page loads then start the chat at once, so an agent's reply shows as unread).
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !script.src || window.TandemWidget) { return; }
  var origin = new URL(script.src, window.location.href).origin;
  var data = script.dataset;
  var bot = data.bot || "";
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(bot)) {
    window.console.error("Tandem widget: data-bot must be a bot id, got " + JSON.stringify(bot));
    return;
  }
  var title = data.title || "Chat with us";
  var color = /^#([0-9a-fA-F]{3}){1,2}$/.test(data.color || "") ? data.color : "#2b59c3";
  var side = data.position === "left" ? "left" : "right";
  var activeKey = "tandem-widget:" + origin + ":" + bot; // the host page's storage

  var css = [
    ":host { all: initial; }",
    ".launcher, .panel { position: fixed; " + side + ": 20px; z-index: 2147483000; }",
    ".launcher { bottom: 20px; width: 56px; height: 56px; border: none; border-radius: 50%; padding: 0;",
    "  background: var(--tandem-color); color: #fff; cursor: pointer; display: flex;",
    "  align-items: center; justify-content: center; box-shadow: 0 4px 14px rgba(0,0,0,.25); }",
    ".launcher svg { width: 28px; height: 28px; fill: currentColor; }",
    ".badge { position: absolute; top: -4px; " + (side === "left" ? "left" : "right") + ": -4px;",
    "  min-width: 20px; height: 20px; padding: 0 6px; border-radius: 10px; background: #d92d20;",
    "  color: #fff; font: 600 12px/20px system-ui, sans-serif; text-align: center; box-sizing: border-box; }",
    ".panel { bottom: 88px; width: 370px; height: 560px; max-width: calc(100vw - 40px);",
    "  max-height: calc(100vh - 108px); display: flex; flex-direction: column; background: #fff;",
    "  border-radius: 12px; overflow: hidden; box-shadow: 0 8px 30px rgba(0,0,0,.3);",
    "  font: 16px/1.4 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; }",
    "[hidden] { display: none !important; }",
    ".header { display: flex; align-items: center; justify-content: space-between;",
    "  padding: 10px 8px 10px 16px; background: var(--tandem-color); color: #fff; }",
    ".header h2 { margin: 0; font-size: 16px; font-weight: 600; }",
    ".close { background: none; border: none; color: inherit; font-size: 24px; line-height: 1;",
    "  padding: 2px 10px; cursor: pointer; border-radius: 6px; }",
    "iframe { flex: 1; width: 100%; border: 0; background: #fff; }",
    "button:focus-visible { outline: 3px solid #8fb0ff; outline-offset: 2px; }",
    "@media (max-width: 480px) { .panel { top: 0; left: 0; right: 0; bottom: 0; width: auto; height: auto;",
    "  max-width: none; max-height: none; border-radius: 0; } }"
  ].join("\n");

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text) { node.textContent = text; }
    return node;
  }

  var host = el("tandem-widget");
  host.style.setProperty("--tandem-color", color);
  var shadow = host.attachShadow({ mode: "open" });
  if (shadow.adoptedStyleSheets !== undefined && typeof CSSStyleSheet.prototype.replaceSync === "function") {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    shadow.adoptedStyleSheets = [sheet];
  } else {
    shadow.appendChild(el("style", "", css)); // older browsers; a strict host CSP may block it
  }

  var launcher = el("button", "launcher");
  launcher.type = "button";
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-controls", "tandem-panel");
  var icon = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  icon.setAttribute("viewBox", "0 0 24 24");
  icon.setAttribute("aria-hidden", "true");
  var path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z");
  icon.appendChild(path);
  var badge = el("span", "badge");
  badge.hidden = true;
  badge.setAttribute("aria-hidden", "true");
  launcher.appendChild(icon);
  launcher.appendChild(badge);

  var panel = el("div", "panel");
  panel.id = "tandem-panel";
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", title);
  var header = el("div", "header");
  header.appendChild(el("h2", "", title));
  var closeButton = el("button", "close", "\u00d7");
  closeButton.type = "button";
  closeButton.setAttribute("aria-label", "Close chat");
  header.appendChild(closeButton);
  panel.appendChild(header);
  shadow.appendChild(panel);
  shadow.appendChild(launcher);

  var frame = null;
  var frameReady = false;
  var unread = 0;

  function label() {
    launcher.setAttribute("aria-label", "Open chat: " + title +
      (unread ? ", " + unread + " unread message" + (unread === 1 ? "" : "s") : ""));
    badge.textContent = unread > 9 ? "9+" : String(unread);
    badge.hidden = unread === 0;
  }

  function tell(type) {
    if (frame && frameReady) { frame.contentWindow.postMessage({ type: type }, origin); }
  }

  // load starts the chat in the (maybe hidden) panel.
  function load() {
    if (frame) { return; }
    frame = el("iframe");
    frame.title = title;
    frame.src = origin + "/embed?bot=" + encodeURIComponent(bot) +
      "#origin=" + encodeURIComponent(window.location.origin) + "&color=" + encodeURIComponent(color);
    frame.addEventListener("load", function () {
      frameReady = true;
      if (!panel.hidden) { tell("tandem:open"); }
    });
    panel.appendChild(frame);
  }

  function open() {
    load();
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    unread = 0;
    label();
    frame.focus();
    tell("tandem:open"); // the chat focuses its input (after the load when it is not ready)
  }

  function close() {
    if (panel.hidden) { return; }
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }

  launcher.addEventListener("click", function () {
    if (panel.hidden) { open(); } else { close(); }
  });
  closeButton.addEventListener("click", close);
  shadow.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { close(); }
  });
  window.addEventListener("message", function (event) {
    if (!frame || event.source !== frame.contentWindow || event.origin !== origin) { return; }
    switch (event.data && event.data.type) {
      case "tandem:message":
        if (panel.hidden) { unread++; label(); }
        break;
      case "tandem:close":
        close();
        break;
      case "tandem:active":
        try { window.localStorage.setItem(activeKey, "1"); } catch (e) { /* storage blocked */ }
        break;
    }
  });

  label();
  function attach() {
    document.body.appendChild(host);
    var active = false;
    try { active = window.localStorage.getItem(activeKey) === "1"; } catch (e) { /* storage blocked */ }
    if (active) { load(); } // a visitor who chatted before hears an agent's reply at once
  }
  if (document.body) { attach(); } else { document.addEventListener("DOMContentLoaded", attach); }

  window.TandemWidget = { open: open, close: close };
}());
