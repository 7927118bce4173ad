/* A promotion's page follows its progress without reloading: while the promotion is queued or
   running it polls the JSON API; when the status or step changes it fetches the page's panels
   again (GET /promotions/<id>/progress, rendered by the server as on first load) and swaps them in,
   then announces the new state to screen readers. Polling stops once the promotion needs review,
   is done, failed or was rejected. */
(function () {
  "use strict";

  var STATUS_TEXT = {
    needs_review: "The draft is ready for review.",
    done: "Done.",
    failed: "The promotion failed.",
    rejected: "The promotion was rejected."
  };

  function follow(box) {
    var url = box.getAttribute("data-api");
    var status = box.getAttribute("data-status");
    var step = box.getAttribute("data-step");
    var delay = 700, failures = 0;

    function schedule() {
      delay = Math.min(delay * 1.25, 4000);
      window.setTimeout(poll, delay);
    }

    function lost() {
      failures += 1;
      var line = box.querySelector("[data-poll-status]");
      if (line) line.textContent = "Lost contact with the server; retrying…";
      if (failures < 30) schedule();
    }

    function swap() {
      return fetch(box.getAttribute("data-progress"), { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.text();
        }).then(function (html) {
          var holder = document.createElement("div");
          holder.innerHTML = html;
          var fresh = holder.querySelector("[data-promotion-id]");
          if (!fresh) throw new Error("no panels in the answer");
          box.replaceWith(fresh);
          if (window.Cairn && window.Cairn.enhance) window.Cairn.enhance(fresh);
          var announce = document.querySelector("[data-progress-announce]");
          var line = fresh.querySelector("[data-poll-status]");
          if (announce) announce.textContent = STATUS_TEXT[fresh.getAttribute("data-status")] || (line ? line.textContent : "");
          if (fresh.hasAttribute("data-poll")) follow(fresh);
        });
    }

    function poll() {
      window.Cairn.api(url).then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      }).then(function (data) {
        failures = 0;
        if (data.status !== status || data.step !== step) return swap();
        schedule();
      }).catch(lost);
    }

    window.setTimeout(poll, delay);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.querySelector("[data-promotion-id][data-poll]");
    if (box) follow(box);
  });
})();
