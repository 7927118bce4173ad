/* Cairn: small enhancements shared by every page (no framework, no inline scripts). */
(function () {
  "use strict";

  var Cairn = (window.Cairn = window.Cairn || {});

  // what scripts do to markup, again for markup inserted later (live.js calls Cairn.enhance)
  var enhancers = [];
  Cairn.onEnhance = function (fn) { enhancers.push(fn); };
  Cairn.enhance = function (root) { enhancers.forEach(function (fn) { fn(root); }); };

  /** The session's CSRF token, for unsafe API calls (sent as X-CSRFToken). */
  Cairn.csrfToken = function () {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  };

  /** fetch() against our own API with the session cookie and, for unsafe methods, the CSRF header. */
  Cairn.api = function (url, options) {
    options = options || {};
    var method = (options.method || "GET").toUpperCase();
    var headers = Object.assign({ Accept: "application/json" }, options.headers || {});
    if (["POST", "PUT", "PATCH", "DELETE"].indexOf(method) !== -1) {
      headers["X-CSRFToken"] = Cairn.csrfToken();
      if (options.body && typeof options.body !== "string") {
        headers["Content-Type"] = "application/json";
        options.body = JSON.stringify(options.body);
      }
    }
    return fetch(url, Object.assign({}, options, { method: method, headers: headers, credentials: "same-origin" }));
  };

  // --- times: "5 min ago" with the exact local time as a tooltip ---------------------------------
  var rtf = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(undefined, { numeric: "auto" }) : null;

  function relative(date) {
    var seconds = (date.getTime() - Date.now()) / 1000;
    var abs = Math.abs(seconds);
    if (!rtf || abs > 6 * 86400) {
      var sameYear = date.getFullYear() === new Date().getFullYear();
      return date.toLocaleDateString(undefined, sameYear ? { day: "numeric", month: "short" }
        : { day: "numeric", month: "short", year: "numeric" }) + " " +
        date.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
    }
    if (abs < 45) return "just now";
    if (abs < 3600) return rtf.format(Math.round(seconds / 60), "minute");
    if (abs < 86400) return rtf.format(Math.round(seconds / 3600), "hour");
    return rtf.format(Math.round(seconds / 86400), "day");
  }

  function updateTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var date = new Date(el.getAttribute("datetime"));
      if (isNaN(date.getTime())) return;
      el.title = date.toLocaleString();
      if (el.hasAttribute("data-relative")) el.textContent = relative(date);
    });
  }

  // --- the sidebar on small screens --------------------------------------------------------------
  function setNav(open) {
    var toggle = document.querySelector("[data-nav-toggle]");
    var scrim = document.querySelector("[data-nav-close]");
    document.body.classList.toggle("nav-open", open);
    if (toggle) toggle.setAttribute("aria-expanded", open ? "true" : "false");
    if (scrim) scrim.hidden = !open;
    if (open) {
      var first = document.querySelector("#sidebar a");
      if (first) first.focus();
    }
  }

  function closePopovers(except) {
    document.querySelectorAll("details.react-picker[open], details.confirm[open], details.promote[open]")
      .forEach(function (d) { if (d !== except) d.open = false; });
  }

  function isTyping(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }

  document.addEventListener("DOMContentLoaded", function () {
    updateTimes(document);
    window.setInterval(function () { updateTimes(document); }, 60000);

    var toggle = document.querySelector("[data-nav-toggle]");
    if (toggle) toggle.addEventListener("click", function () {
      setNav(!document.body.classList.contains("nav-open"));
    });
    var scrim = document.querySelector("[data-nav-close]");
    if (scrim) scrim.addEventListener("click", function () { setNav(false); });
    document.addEventListener("click", function (event) {
      if (!event.target.closest("details.react-picker, details.confirm, details.promote")) closePopovers(null);
    });

    Cairn.enhance(document);
  });

  Cairn.onEnhance(function (root) {
    if (root !== document) updateTimes(root);
  });

  // A channel page's popovers hold no form until opened: the page carries one reaction picker and
  // one flag form (<template id="fill-...">, post id POST_ID), copied into a post's popover here.
  // Without JavaScript the popover links to the post's page, whose cards carry the forms.
  function fill(details) {
    var template = document.getElementById("fill-" + details.getAttribute("data-fill"));
    if (!template || details.hasAttribute("data-filled")) return;
    var id = details.getAttribute("data-post-id");
    var content = template.content.cloneNode(true);
    content.querySelectorAll("*").forEach(function (el) {
      Array.prototype.forEach.call(el.attributes, function (attr) {
        if (attr.value.indexOf("POST_ID") !== -1) attr.value = attr.value.split("POST_ID").join(id);
      });
    });
    details.querySelectorAll("[data-fallback]").forEach(function (el) { el.remove(); });
    details.appendChild(content);
    details.setAttribute("data-filled", "");
    Cairn.enhance(details);
  }

  Cairn.onEnhance(function (root) {
    // one popover (reaction picker, delete confirmation, promote form) open at a time
    root.querySelectorAll("details.react-picker, details.confirm, details.promote").forEach(function (d) {
      d.addEventListener("toggle", function () {
        if (!d.open) return;
        if (d.hasAttribute("data-fill")) fill(d);
        closePopovers(d);
        var field = d.querySelector("input:not([type=hidden]), select, button");
        if (field && d.classList.contains("promote")) field.focus();
      });
    });
  });

  Cairn.onEnhance(function (root) {
    // a form submits once: protects against double posts on slow connections
    root.querySelectorAll("form[method=post], form[method=POST]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        window.setTimeout(function () {
          if (event.defaultPrevented) return;  // handled by a script (e.g. reactions.js)
          form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
        }, 0);
      });
    });
  });

  // coming back with the browser's back button must not leave buttons disabled
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) document.querySelectorAll("button[type=submit][disabled]").forEach(function (b) { b.disabled = false; });
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      closePopovers(null);
      if (document.body.classList.contains("nav-open")) setNav(false);
      return;
    }
    if (event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey && !isTyping(document.activeElement)) {
      var search = document.getElementById("global-search") || document.getElementById("q");
      if (search) {
        event.preventDefault();
        search.focus();
        search.select();
      }
    }
  });
})();
