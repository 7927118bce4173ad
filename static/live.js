/* Live updates on the channel and thread pages (Server-Sent Events, see cairn/live.py).

   The server sends ids and kinds only; this script fetches the post's card from
   /posts/<id>/fragment (the same macro the page was rendered with, and the same permission
   checks) and inserts, replaces or removes it. The page works the same without it. */
(function () {
  "use strict";

  var RETRY_MAX = 30000;

  function start(container) {
    var streamUrl = container.getAttribute("data-live");
    var fragmentUrl = container.getAttribute("data-fragment");
    var threadRoot = container.hasAttribute("data-thread-root") ? Number(container.getAttribute("data-thread-root")) : null;
    var history = container.hasAttribute("data-live-history");  // an older page: update, never append
    // where the page stood when it was rendered: the first stream replays what came after
    var lastEventId = container.getAttribute("data-live-since") || "";
    var source = null;
    var retryDelay = 1000;

    function postEl(id) { return document.getElementById("post-" + id); }

    function fragment(id) {
      var url = fragmentUrl.replace(/\/0\/fragment/, "/" + id + "/fragment") + (threadRoot ? "?in_thread=1" : "");
      return fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } }).then(function (response) {
        if (response.status === 404) return null;  // deleted, hidden, or no longer readable
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text().then(function (html) {
          var template = document.createElement("template");
          template.innerHTML = html.trim();
          return template.content.querySelector("article.post");
        });
      });
    }

    function enhance(el) {
      if (window.Cairn && window.Cairn.enhance) window.Cairn.enhance(el);
    }

    function nearBottom() {
      var scroller = document.scrollingElement || document.documentElement;
      return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 200;
    }

    function insertInOrder(el, id) {
      // replies and roots arrive in any order (each is fetched on its own): keep them by id
      var posts = container.querySelectorAll(":scope > article.post:not(.post-root)");
      for (var i = 0; i < posts.length; i++) {
        if (Number(posts[i].id.replace("post-", "")) > id) {
          container.insertBefore(el, posts[i]);
          return;
        }
      }
      container.appendChild(el);
    }

    function updateReplyCount(delta) {
      // the thread page's "N replies" (the root's reply count, whatever page this is)
      var divider = container.querySelector(".thread-divider span");
      if (!divider) return;
      var n = Math.max(0, (parseInt(divider.textContent, 10) || 0) + delta);
      divider.textContent = n + (n === 1 ? " reply" : " replies");
    }

    function add(id) {
      if (postEl(id)) return;
      var follow = nearBottom();
      fragment(id).then(function (el) {
        if (!el || postEl(id)) return;
        container.querySelectorAll(":scope > .empty").forEach(function (e) { e.remove(); });
        el.classList.add("post-live");
        insertInOrder(el, id);
        enhance(el);
        if (follow) el.scrollIntoView({ block: "nearest" });
      }).catch(function () { /* the next load shows it */ });
    }

    function refresh(id) {
      var old = postEl(id);
      if (!old) return;
      fragment(id).then(function (el) {
        var current = postEl(id);
        if (!current) return;
        if (!el) { remove(id); return; }
        if (current.contains(document.activeElement) && document.activeElement.matches("input, textarea, select")) {
          return;  // the reader is typing in this post (reaction, flag): do not pull it away
        }
        current.replaceWith(el);
        enhance(el);
      }).catch(function () {});
    }

    function remove(id) {
      var el = postEl(id);
      if (el && !el.classList.contains("post-root")) {
        el.remove();
      } else if (el && !el.classList.contains("post-gone")) {
        el.classList.add("post-gone");
        var note = document.createElement("p");
        note.className = "notice";
        note.setAttribute("role", "status");
        note.textContent = "This post was deleted.";
        el.querySelector(".post-main").prepend(note);
      }
    }

    var handlers = {
      "post.created": function (d) {
        if (threadRoot) {
          if (d.parent_id !== threadRoot) return;
          updateReplyCount(1);
          if (!history) add(d.post_id);
        } else if (d.parent_id === null) {
          if (!history) add(d.post_id);
        } else {
          refresh(d.parent_id);  // the root's reply count
        }
      },
      "post.edited": function (d) { refresh(d.post_id); },
      "reaction.changed": function (d) { refresh(d.post_id); },
      "post.deleted": function (d) {
        remove(d.post_id);
        if (threadRoot && d.parent_id === threadRoot) updateReplyCount(-1);
        if (!threadRoot && d.parent_id) refresh(d.parent_id);
      }
    };

    function showResync() {
      if (container.querySelector(".live-banner")) return;
      var banner = document.createElement("p");
      banner.className = "live-banner";
      banner.setAttribute("role", "status");
      banner.appendChild(document.createTextNode("Some updates may be missing. "));
      var link = document.createElement("a");
      link.href = window.location.href;
      link.textContent = "Reload";
      banner.appendChild(link);
      container.prepend(banner);
    }

    function connect() {
      var url = streamUrl + (lastEventId ? "?last_event_id=" + encodeURIComponent(lastEventId) : "");
      source = new EventSource(url);
      container.setAttribute("data-live-state", "connecting");
      source.addEventListener("open", function () {
        retryDelay = 1000;
        container.setAttribute("data-live-state", "open");
      });
      Object.keys(handlers).forEach(function (kind) {
        source.addEventListener(kind, function (event) {
          if (event.lastEventId) lastEventId = event.lastEventId;
          var data;
          try { data = JSON.parse(event.data); } catch (e) { return; }
          handlers[kind](data);
        });
      });
      source.addEventListener("resync", showResync);
      source.addEventListener("error", function () {
        // EventSource retries by itself after a dropped connection; after a refusal (503, 404,
        // a login page) it gives up: then open a new one later, saying what we already have
        if (source.readyState !== EventSource.CLOSED) return;
        container.setAttribute("data-live-state", "closed");
        window.setTimeout(connect, retryDelay);
        retryDelay = Math.min(RETRY_MAX, retryDelay * 2);
      });
    }

    window.addEventListener("pagehide", function () { if (source) source.close(); });
    window.addEventListener("pageshow", function (event) { if (event.persisted) connect(); });
    connect();
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.EventSource || !window.fetch) return;
    document.querySelectorAll("[data-live]").forEach(start);
  });
})();
