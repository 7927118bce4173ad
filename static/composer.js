/* The composer: Ctrl/Cmd+Enter sends, a live Markdown preview rendered by the server (so it is
   exactly what the post will look like), auto-grow, and the channel timeline opening at its
   newest message, or at the "New messages" divider when there is one. */
(function () {
  "use strict";

  var DEBOUNCE_MS = 300;

  function showMessage(target, text, className) {
    target.textContent = "";
    var p = document.createElement("p");
    p.className = className;
    p.textContent = text;
    target.appendChild(p);
  }

  /** Ask POST /api/v1/preview for the HTML of ``source``; the answer is sanitised by the server
      (the same code that renders a saved post), so it is inserted as the timeline shows posts. */
  function livePreview(form, textarea, target) {
    var url = form.getAttribute("data-preview-url");
    var timer = null, sent = 0, shown = 0;

    function render() {
      var source = textarea.value;
      if (!source.trim()) { showMessage(target, "Nothing to preview yet.", "muted"); return; }
      if (!url || !window.Cairn || !window.fetch) { showMessage(target, "Preview unavailable.", "preview-error"); return; }
      var ticket = ++sent;
      window.Cairn.api(url, { method: "POST", body: { body: source } }).then(function (response) {
        return response.json().then(function (data) { return { ok: response.ok, data: data }; });
      }).then(function (answer) {
        if (ticket < shown) return;  // an older request answered late
        shown = ticket;
        if (answer.ok) {
          target.innerHTML = answer.data.html;
          target.setAttribute("data-rendered", "true");
        } else {
          showMessage(target, (answer.data.error && answer.data.error.message) || "Preview unavailable.", "preview-error");
        }
      }).catch(function () {
        showMessage(target, "Preview unavailable (offline?).", "preview-error");
      });
    }

    return {
      now: render,
      soon: function () {
        window.clearTimeout(timer);
        timer = window.setTimeout(render, DEBOUNCE_MS);
      },
    };
  }

  function grow(textarea) {
    textarea.style.height = "auto";
    textarea.style.height = Math.min(textarea.scrollHeight + 2, window.innerHeight * 0.5) + "px";
  }

  function setUp(form) {
    var textarea = form.querySelector("textarea[name=body]");
    if (!textarea) return;
    var preview = form.querySelector("[data-preview]");
    var toggle = form.querySelector("[data-preview-toggle]");
    var autoGrow = form.classList.contains("composer") && !form.classList.contains("stack");
    var live = preview ? livePreview(form, textarea, preview) : null;

    textarea.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        if (!textarea.value.trim()) return;
        if (form.requestSubmit) form.requestSubmit(); else form.submit();
      }
    });
    textarea.addEventListener("input", function () {
      if (autoGrow) grow(textarea);
      if (live && !preview.hidden) live.soon();
    });
    if (toggle && preview) {
      toggle.addEventListener("click", function () {
        var show = preview.hidden;
        preview.hidden = !show;
        toggle.setAttribute("aria-pressed", show ? "true" : "false");
        toggle.textContent = show ? "Hide preview" : "Preview";
        if (show) live.now();
      });
    }
    textarea.setAttribute("data-composer-ready", "true");  // Ctrl/Cmd+Enter sends from now on
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-composer]").forEach(setUp);
    if (window.location.hash) {
      // jumping to a post (after posting or reacting) lands on it
      var target = document.getElementById(window.location.hash.slice(1));
      if (target) target.scrollIntoView({ block: "center" });
      return;
    }
    var divider = document.querySelector("[data-new-divider]");
    if (divider) {
      divider.scrollIntoView({ block: "start" });
    } else if (document.querySelector("[data-timeline]")) {
      window.scrollTo(0, document.body.scrollHeight);  // a chat timeline opens at its newest message
    }
  });
})();
