// Tandem inbox: keeps the queue and ticket pages current. A page names its event stream
// (data-events); on each event the page refetches itself and swaps its live parts
// (data-live). A part whose data-live key did not change is left alone, so the agent's
// reply draft is never touched. No timer runs while the stream works; when it keeps failing,
// the page falls back to reloading every data-refresh seconds while the agent is idle.
// The ticket page also shows when the customer is typing, tells the customer's web chat
// (at most every few seconds) when the agent is, and filters the saved replies as the agent
// types in their filter box. Everything works without JavaScript.
(function () {
  "use strict";
  var root = document.querySelector("[data-events]");
  if (!root) {
    return;
  }
  var fetching = false;
  var again = false;

  // swap replaces the page's live parts with those of doc, a fresh copy of the page.
  function swap(doc) {
    var parts = document.querySelectorAll("[data-live]");
    for (var i = 0; i < parts.length; i++) {
      if (!doc.getElementById(parts[i].id)) {
        // Not the same page any more (signed out, an error): show what the server says.
        window.location.replace(window.location.pathname);
        return;
      }
    }
    parts.forEach(function (old) {
      var fresh = doc.getElementById(old.id);
      if (old.dataset.live !== "" && old.dataset.live === fresh.dataset.live) {
        return;
      }
      if (old.innerHTML === fresh.innerHTML) {
        return; // unchanged: keep the agent's focus, selection and scroll in it
      }
      var draft = old.querySelector("textarea");
      var part = document.importNode(fresh, true);
      var box = part.querySelector("textarea");
      if (draft && box && draft.value !== "") {
        box.value = draft.value;
      }
      old.replaceWith(part);
    });
    showFilter();
  }

  // refetch reads the page again; events that arrive meanwhile cause one more read.
  function refetch() {
    if (fetching) {
      again = true;
      return;
    }
    fetching = true;
    fetch(window.location.pathname, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (res) { return res.text(); })
      .then(function (html) { swap(new DOMParser().parseFromString(html, "text/html")); })
      .catch(function () {}) // the next event, or the fallback's reload, tries again
      .finally(function () {
        fetching = false;
        if (again) {
          again = false;
          refetch();
        }
      });
  }

  // reloadWhenIdle is the fallback: reload the page every data-refresh seconds, but not
  // while the agent is typing a reply or has just interacted.
  function reloadWhenIdle() {
    var seconds = Number(root.dataset.refresh) || 0;
    if (!seconds) {
      return;
    }
    var last = Date.now();
    ["keydown", "mousedown", "input", "focusin"].forEach(function (type) {
      document.addEventListener(type, function () { last = Date.now(); }, true);
    });
    window.setInterval(function () {
      var typing = ["reply-text", "note-text"].some(function (id) {
        var box = document.getElementById(id);
        return box && (box.value !== "" || document.activeElement === box);
      });
      if (!typing && Date.now() - last >= seconds * 1000) {
        window.location.replace(window.location.pathname);
      }
    }, 1000);
  }

  // showTyping shows the customer's typing hint; CSS fades it out unless shown again.
  function showTyping() {
    var hint = document.getElementById("customer-typing");
    if (!hint) {
      return;
    }
    hint.hidden = false;
    hint.classList.remove("shown");
    void hint.offsetWidth; // restart the animation
    hint.classList.add("shown");
  }

  function hideTyping() {
    var hint = document.getElementById("customer-typing");
    if (hint) {
      hint.hidden = true;
    }
  }

  // The agent's typing, announced at most every 3 seconds to the ticket's holder's customer.
  var typedAt = 0;
  document.addEventListener("input", function (event) {
    var box = event.target;
    if (box.id !== "reply-text" || !box.form || Date.now() - typedAt < 3000) {
      return;
    }
    typedAt = Date.now();
    var body = new URLSearchParams({ csrf: box.form.elements.csrf.value });
    fetch(box.form.action.replace(/\/reply$/, "/typing"), { method: "POST", body: body, credentials: "same-origin" })
      .catch(function () {}); // only a hint
  });

  // The saved replies' filter box: hidden without JavaScript, where all are listed.
  function showFilter() {
    var box = document.getElementById("saved-filter");
    if (box) {
      box.hidden = false;
    }
  }
  document.addEventListener("input", function (event) {
    if (event.target.id !== "saved-filter") {
      return;
    }
    var words = event.target.value.toLowerCase().split(/\s+/).filter(Boolean);
    document.querySelectorAll("#saved-list .saved-reply").forEach(function (item) {
      var text = item.dataset.search || "";
      item.hidden = !words.every(function (w) { return text.indexOf(w) >= 0; });
    });
  });
  showFilter();

  if (!window.EventSource) {
    reloadWhenIdle();
    return;
  }
  var failures = 0;
  var stream = new EventSource(root.dataset.events);
  stream.addEventListener("open", function () {
    failures = 0;
    refetch(); // the page was read before the stream began: catch up
    document.body.dataset.stream = "on";
  });
  stream.addEventListener("refetch", function (event) {
    if (JSON.parse(event.data).kind === "message") {
      hideTyping(); // the customer sent what they typed
    }
    refetch();
  });
  stream.addEventListener("typing", function (event) {
    if (JSON.parse(event.data).role === "customer") {
      showTyping();
    }
  });
  stream.addEventListener("error", function () {
    // The browser reconnects by itself after a dropped stream, but not after a refusal
    // (503: too many streams, live updates off).
    failures++;
    if (stream.readyState === EventSource.CLOSED || failures >= 3) {
      stream.close();
      document.body.dataset.stream = "off";
      reloadWhenIdle();
    }
  });
})();
