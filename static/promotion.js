/* A promotion's page follows its progress: poll the API while it is queued or running and reload
   when its status or step changes. */
(function () {
  "use strict";

  var STEP_LABELS = {
    queued: "Waiting for a worker…",
    snapshot: "Taking a snapshot of the posts…",
    screen: "Screening for sensitive data…",
    duplicates: "Looking for similar articles…",
    draft: "Drafting the article…"
  };

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.querySelector("[data-promotion-id][data-poll]");
    if (!box) return;
    var url = box.getAttribute("data-api");
    var status = box.getAttribute("data-status");
    var step = box.getAttribute("data-step");
    var line = box.querySelector("[data-poll-status]");
    var delay = 1000, failures = 0;

    function schedule() {
      delay = Math.min(delay * 1.3, 5000);
      window.setTimeout(poll, delay);
    }

    function poll() {
      window.Cairn.api(url).then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      }).then(function (data) {
        failures = 0;
        if (data.status !== status || data.step !== step) {
          window.location.reload();
          return;
        }
        if (line && STEP_LABELS[data.step]) line.textContent = STEP_LABELS[data.step] + " This page updates by itself.";
        schedule();
      }).catch(function () {
        failures += 1;
        if (line) line.textContent = "Lost contact with the server; retrying…";
        if (failures < 20) schedule();
      });
    }

    window.setTimeout(poll, delay);
  });
})();
