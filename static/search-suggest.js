/* Search-box autocomplete: typing in a search box (the top bar's, the search page's) lists
   completed queries and the titles of matching articles and threads, from
   GET /api/v1/search/suggest?q=… — only what the reader may read. Arrows move, Enter picks
   (a query is searched, a title is opened), Escape closes. The list is a labelled listbox of
   text nodes, never HTML. */
(function () {
  "use strict";

  var URL = "/api/v1/search/suggest";
  var MIN_CHARS = 2;
  var counter = 0;

  function setUp(input) {
    var form = input.form;
    if (!form || !window.fetch) return;
    var listId = "search-suggest-" + (++counter);
    var list = document.createElement("ul");
    list.id = listId;
    list.className = "suggest-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Search suggestions");
    list.hidden = true;
    form.classList.add("has-suggest");
    form.appendChild(list);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", listId);
    input.setAttribute("aria-expanded", "false");

    var options = [], active = -1, ticket = 0, timer = null, asked = null;

    function close() {
      list.hidden = true;
      options = [];
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function highlight(index) {
      active = index;
      Array.prototype.forEach.call(list.children, function (li, i) {
        li.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      if (index >= 0) input.setAttribute("aria-activedescendant", listId + "-" + index);
      else input.removeAttribute("aria-activedescendant");
    }

    function pick(index) {
      var option = options[index];
      if (!option) return;
      close();
      if (option.url) {
        window.location.assign(option.url);
      } else {
        input.value = option.query;
        form.submit();
      }
    }

    function option(i, label, detail, kind) {
      var li = document.createElement("li");
      li.id = listId + "-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.className = "suggest-" + kind;
      var text = document.createElement("span");
      text.className = "suggest-text";
      text.textContent = label;
      li.appendChild(text);
      if (detail) {
        var small = document.createElement("span");
        small.className = "suggest-detail";
        small.textContent = detail;
        li.appendChild(small);
      }
      li.addEventListener("mousedown", function (event) { event.preventDefault(); pick(i); });
      return li;
    }

    function show(data) {
      options = [];
      list.textContent = "";
      (data.completions || []).forEach(function (query) {
        list.appendChild(option(options.length, query, "search", "query"));
        options.push({ query: query });
      });
      (data.items || []).forEach(function (item) {
        var where = item.kind === "article" ? "Article" : "Thread";
        list.appendChild(option(options.length, item.title, where + (item.container ? " · " + item.container : ""), item.kind));
        options.push({ url: item.url });
      });
      if (!options.length) { close(); return; }
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      highlight(-1);  // Enter still submits what was typed until an arrow picks a suggestion
    }

    function lookup() {
      var q = input.value.trim();
      if (q.length < MIN_CHARS) { asked = null; close(); return; }
      if (q === asked && !list.hidden) return;
      asked = q;
      var mine = ++ticket;
      window.fetch(URL + "?q=" + encodeURIComponent(q) + "&limit=6", {
        credentials: "same-origin", headers: { Accept: "application/json" }
      }).then(function (response) {
        return response.ok ? response.json() : {};
      }).then(function (data) {
        if (mine === ticket && document.activeElement === input) show(data);
      }).catch(close);
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(lookup, 150);
    });
    input.addEventListener("keydown", function (event) {
      if (list.hidden) {
        if (event.key === "ArrowDown" && input.value.trim().length >= MIN_CHARS) { asked = null; lookup(); }
        return;
      }
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        var step = event.key === "ArrowDown" ? 1 : -1;
        var next = active + step;
        if (next < -1) next = options.length - 1;
        if (next >= options.length) next = -1;
        highlight(next);
      } else if (event.key === "Enter" && active >= 0) {
        event.preventDefault();
        pick(active);
      } else if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        close();
      }
    });
    input.addEventListener("blur", function () { window.setTimeout(close, 150); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[role=search] input[type=search][name=q]").forEach(setUp);
  });
})();
