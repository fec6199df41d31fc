// Knowledge editor: streams an upload's ingestion progress (server-sent events) into the
// progress bar of the job page. Everything else works without JavaScript.
(function () {
  "use strict";
  var job = document.getElementById("job");
  // Subscribe even when the page was rendered finished: the stream then sends one "done"
  // event, which keeps one code path for the result.
  if (!job || !window.EventSource) {
    return;
  }
  var bar = document.getElementById("progress");
  var status = document.getElementById("job-status");
  var source = new EventSource(job.dataset.events);

  function show(state) {
    bar.max = Math.max(state.total, 1);
    bar.value = state.done;
    bar.textContent = state.done + " / " + state.total;
    if (!state.finished) {
      status.textContent = state.done + " of " + state.total + " documents…";
      return;
    }
    if (state.error) {
      status.textContent = "Failed: " + state.error;
      job.classList.add("failed");
    } else {
      var s = state.stats || {};
      status.textContent = "Done: " + (s.added || 0) + " added, " + (s.updated || 0) + " updated, " +
        (s.unchanged || 0) + " unchanged, " + (s.chunks || 0) + " passages.";
    }
    job.dataset.finished = "true";
  }

  source.addEventListener("progress", function (e) { show(JSON.parse(e.data)); });
  source.addEventListener("done", function (e) {
    source.close();
    show(JSON.parse(e.data));
    job.dataset.streamed = "true";
  });
  source.onerror = function () {
    if (job.dataset.streamed !== "true") {
      status.textContent = "Lost the connection to the server; reload the page to see the progress.";
    }
    source.close();
  };
})();
