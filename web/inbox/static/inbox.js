// Tandem inbox: reloads the queue, and a ticket page whose text boxes are empty, every few
// seconds (data-refresh) so new tickets and customer messages show up; it waits while the
// agent is typing or has just interacted. Everything else works without JavaScript.
(function () {
  "use strict";
  var marked = document.querySelector("[data-refresh]");
  var reply = document.getElementById("reply-text");
  var seconds = marked ? Number(marked.dataset.refresh) : (reply ? 10 : 0);
  if (!seconds) {
    return;
  }
  var last = Date.now();
  ["keydown", "mousedown", "input", "focusin"].forEach(function (type) {
    document.addEventListener(type, function () { last = Date.now(); }, true);
  });
  window.setInterval(function () {
    var typing = Array.prototype.some.call(document.querySelectorAll("textarea, input[type=text]"), function (el) {
      return el.value !== "" || document.activeElement === el;
    });
    if (!typing && Date.now() - last >= seconds * 1000) {
      window.location.replace(window.location.pathname);
    }
  }, 1000);
})();
