/* The composer: Ctrl/Cmd+Enter sends, a live (safe, DOM-built) Markdown preview, auto-grow, and
   the channel timeline opening at its newest message. */
(function () {
  "use strict";

  // Inline Markdown → DOM nodes. Only text nodes and a few fixed elements are created, never HTML.
  var INLINE = /(`[^`\n]+`)|(\*\*[^*\n]+\*\*|__[^_\n]+__)|(\*[^*\n]+\*|_[^_\n]+_)|(~~[^~\n]+~~)|(\[[^\]\n]+\]\([^)\s]+\))/;

  function inline(parent, text) {
    while (text) {
      var m = INLINE.exec(text);
      if (!m) { parent.appendChild(document.createTextNode(text)); return; }
      if (m.index) parent.appendChild(document.createTextNode(text.slice(0, m.index)));
      var token = m[0], el;
      if (m[1]) { el = document.createElement("code"); el.textContent = token.slice(1, -1); }
      else if (m[2]) { el = document.createElement("strong"); inline(el, token.slice(2, -2)); }
      else if (m[3]) { el = document.createElement("em"); inline(el, token.slice(1, -1)); }
      else if (m[4]) { el = document.createElement("del"); inline(el, token.slice(2, -2)); }
      else {
        // links are shown, not followed, in a preview
        var label = token.slice(1, token.indexOf("]("));
        el = document.createElement("span");
        el.className = "preview-link";
        el.title = token.slice(token.indexOf("](") + 2, -1);
        el.textContent = label;
      }
      parent.appendChild(el);
      text = text.slice(m.index + token.length);
    }
  }

  function render(source, target) {
    target.textContent = "";
    var lines = source.replace(/\r\n?/g, "\n").split("\n");
    var i = 0, block = null;
    function flush() { block = null; }
    while (i < lines.length) {
      var line = lines[i];
      if (/^```/.test(line)) {
        var pre = document.createElement("pre"), code = document.createElement("code"), body = [];
        i += 1;
        while (i < lines.length && !/^```/.test(lines[i])) { body.push(lines[i]); i += 1; }
        code.textContent = body.join("\n");
        pre.appendChild(code);
        target.appendChild(pre);
        flush(); i += 1; continue;
      }
      var heading = /^(#{1,6})\s+(.*)$/.exec(line);
      var bullet = /^\s*[-*+]\s+(.*)$/.exec(line);
      var numbered = /^\s*\d+[.)]\s+(.*)$/.exec(line);
      var quote = /^>\s?(.*)$/.exec(line);
      if (!line.trim()) { flush(); }
      else if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) { target.appendChild(document.createElement("hr")); flush(); }
      else if (heading) {
        var h = document.createElement("h" + Math.min(heading[1].length + 2, 6));
        inline(h, heading[2]); target.appendChild(h); flush();
      } else if (bullet || numbered) {
        var tag = bullet ? "UL" : "OL";
        if (!block || block.tagName !== tag) { block = document.createElement(tag); target.appendChild(block); }
        var li = document.createElement("li"); inline(li, (bullet || numbered)[1]); block.appendChild(li);
      } else if (quote) {
        if (!block || block.tagName !== "BLOCKQUOTE") { block = document.createElement("blockquote"); target.appendChild(block); }
        else block.appendChild(document.createElement("br"));
        inline(block, quote[1]);
      } else {
        if (!block || block.tagName !== "P") { block = document.createElement("p"); target.appendChild(block); }
        else block.appendChild(document.createElement("br"));
        inline(block, line);
      }
      i += 1;
    }
    if (!target.childNodes.length) {
      var empty = document.createElement("p");
      empty.className = "muted";
      empty.textContent = "Nothing to preview yet.";
      target.appendChild(empty);
    }
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

    textarea.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        if (!textarea.value.trim()) return;
        if (form.requestSubmit) form.requestSubmit(); else form.submit();
      }
    });
    textarea.addEventListener("input", function () {
      if (autoGrow) grow(textarea);
      if (preview && !preview.hidden) render(textarea.value, preview);
    });
    if (toggle && preview) {
      toggle.addEventListener("click", function () {
        var show = preview.hidden;
        preview.hidden = !show;
        toggle.setAttribute("aria-pressed", show ? "true" : "false");
        toggle.textContent = show ? "Hide preview" : "Preview";
        if (show) render(textarea.value, preview);
      });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-composer]").forEach(setUp);
    // a chat timeline opens at its newest message (unless a link points at a given post)
    var timeline = document.querySelector("[data-timeline]");
    if (timeline && !window.location.hash) {
      window.scrollTo(0, document.body.scrollHeight);
    }
    // jumping to a post (after posting or reacting) lands on it
    if (window.location.hash) {
      var target = document.getElementById(window.location.hash.slice(1));
      if (target) target.scrollIntoView({ block: "center" });
    }
  });
})();
