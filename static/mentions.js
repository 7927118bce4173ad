/* @mention autocomplete in the composer: typing "@mi" lists the people who can read this channel
   (GET /api/v1/users/lookup?channel_id=…&prefix=mi); arrows move, Enter or Tab picks, Escape
   closes. The list is a labelled listbox; names are inserted as text, never as HTML. */
(function () {
  "use strict";

  var TRIGGER = /(^|[^\w@])@([\w.\-]{0,40})$/;
  var counter = 0;

  function setUp(form) {
    var textarea = form.querySelector("textarea[name=body]");
    var url = form.getAttribute("data-lookup-url");
    if (!textarea || !url || !window.Cairn || !window.fetch) return;
    var menuId = "mention-menu-" + (++counter);
    var menu = document.createElement("ul");
    menu.id = menuId;
    menu.className = "mention-menu";
    menu.setAttribute("role", "listbox");
    menu.setAttribute("aria-label", "People to mention");
    menu.hidden = true;
    textarea.parentNode.insertBefore(menu, textarea.nextSibling);
    textarea.setAttribute("aria-autocomplete", "list");
    textarea.setAttribute("aria-controls", menuId);
    textarea.setAttribute("aria-expanded", "false");

    var people = [], active = -1, query = null, ticket = 0, timer = null;

    function close() {
      menu.hidden = true;
      people = [];
      active = -1;
      textarea.setAttribute("aria-expanded", "false");
      textarea.removeAttribute("aria-activedescendant");
    }

    function highlight(index) {
      active = index;
      Array.prototype.forEach.call(menu.children, function (li, i) {
        li.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      if (index >= 0) textarea.setAttribute("aria-activedescendant", menuId + "-" + index);
    }

    function pick(index) {
      var person = people[index];
      if (!person) return;
      var caret = textarea.selectionStart;
      var before = textarea.value.slice(0, caret).replace(/@[\w.\-]*$/, "@" + person.handle + " ");
      textarea.value = before + textarea.value.slice(caret);
      textarea.setSelectionRange(before.length, before.length);
      close();
      textarea.focus();
      textarea.dispatchEvent(new Event("input", { bubbles: true }));  // the live preview follows
    }

    function show(found) {
      people = found;
      menu.textContent = "";
      if (!found.length) { close(); return; }
      found.forEach(function (person, i) {
        var li = document.createElement("li");
        li.id = menuId + "-" + i;
        li.setAttribute("role", "option");
        var name = document.createElement("span");
        name.className = "name";
        name.textContent = person.display_name;
        var handle = document.createElement("span");
        handle.className = "handle";
        handle.textContent = "@" + person.handle;
        li.appendChild(name);
        li.appendChild(handle);
        li.addEventListener("mousedown", function (event) { event.preventDefault(); pick(i); });
        menu.appendChild(li);
      });
      menu.hidden = false;
      textarea.setAttribute("aria-expanded", "true");
      highlight(0);
    }

    function lookup() {
      var m = TRIGGER.exec(textarea.value.slice(0, textarea.selectionStart));
      if (!m) { query = null; close(); return; }
      if (m[2] === query && !menu.hidden) return;
      query = m[2];
      var mine = ++ticket;
      var sep = url.indexOf("?") === -1 ? "?" : "&";
      window.Cairn.api(url + sep + "prefix=" + encodeURIComponent(query)).then(function (response) {
        return response.ok ? response.json() : { items: [] };
      }).then(function (data) {
        if (mine === ticket) show(data.items || []);
      }).catch(close);
    }

    textarea.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(lookup, 120);
    });
    textarea.addEventListener("keydown", function (event) {
      if (menu.hidden) return;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        var step = event.key === "ArrowDown" ? 1 : -1;
        highlight((active + step + people.length) % people.length);
      } else if ((event.key === "Enter" && !event.ctrlKey && !event.metaKey) || event.key === "Tab") {
        event.preventDefault();
        pick(active < 0 ? 0 : active);
      } else if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        close();
      }
    });
    textarea.addEventListener("blur", function () { window.setTimeout(close, 150); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-composer]").forEach(setUp);
  });
})();
