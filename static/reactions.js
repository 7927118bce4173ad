/* Reactions without a page reload: the reaction forms call the API (PUT or DELETE
   /api/v1/posts/<id>/reactions/<emoji>) and redraw the post's reaction bar from the answer.
   Without JavaScript, or when the API says no, the forms post to the HTML route as before. */
(function () {
  "use strict";

  function me() {
    var meta = document.querySelector('meta[name="cairn-user"]');
    return meta ? Number(meta.getAttribute("content")) : null;
  }

  function reactionForm(bar, template, reaction, mine) {
    var form = template.cloneNode(false);
    form.className = "inline reaction-form";
    form.setAttribute("data-react", "");
    template.querySelectorAll("input[type=hidden]").forEach(function (input) {
      var copy = input.cloneNode(false);
      if (copy.name === "emoji") copy.value = reaction.emoji;
      form.appendChild(copy);
    });
    if (!form.querySelector("input[name=emoji]")) {  // the template was the picker's form
      var hidden = document.createElement("input");
      hidden.type = "hidden";
      hidden.name = "emoji";
      hidden.value = reaction.emoji;
      form.appendChild(hidden);
    }
    var button = document.createElement("button");
    button.type = "submit";
    button.className = "reaction" + (mine ? " mine" : "");
    button.setAttribute("aria-pressed", mine ? "true" : "false");
    button.title = (reaction.names || []).join(", ") + " reacted with " + reaction.emoji +
      (mine ? " (click to take yours back)" : "");
    var emoji = document.createElement("span");
    emoji.className = "emoji";
    emoji.textContent = reaction.emoji;
    var count = document.createElement("span");
    count.className = "count";
    count.textContent = String(reaction.count);
    button.appendChild(emoji);
    button.appendChild(document.createTextNode(" "));
    button.appendChild(count);
    form.appendChild(button);
    form.addEventListener("submit", onSubmit);
    return form;
  }

  function redraw(bar, reactions) {
    var picker = bar.querySelector("details.react-picker");
    var template = bar.querySelector("form[data-react]");
    var user = me();
    bar.querySelectorAll("form.reaction-form").forEach(function (f) { f.remove(); });
    reactions.forEach(function (reaction) {
      var mine = reaction.users.indexOf(user) !== -1;
      bar.insertBefore(reactionForm(bar, template, reaction, mine), picker);
    });
    if (picker) {
      picker.open = false;
      var any = picker.querySelector(".react-any input[name=emoji]");
      if (any) any.value = "";
    }
  }

  function alreadyMine(bar, emoji) {
    var mine = false;
    bar.querySelectorAll("form.reaction-form").forEach(function (f) {
      var input = f.querySelector("input[name=emoji]");
      var button = f.querySelector("button[aria-pressed]");
      if (input && button && input.value === emoji && button.getAttribute("aria-pressed") === "true") mine = true;
    });
    return mine;
  }

  function onSubmit(event) {
    var form = event.currentTarget;
    var bar = form.closest("[data-reactions]");
    var input = form.querySelector("input[name=emoji]");
    // the picker is one form: a quick-reaction button carries its emoji, "React" sends the field
    var submitter = event.submitter;
    var quick = submitter && submitter.name === "emoji" ? submitter.value : null;
    if (!bar || (!input && !quick) || !window.Cairn || !window.fetch) return;  // plain form post
    var emoji = (quick || input.value).trim();
    if (!emoji) return;
    event.preventDefault();
    var url = bar.getAttribute("data-api").replace("EMOJI", encodeURIComponent(emoji));
    var method = alreadyMine(bar, emoji) ? "DELETE" : "PUT";
    form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    window.Cairn.api(url, { method: method }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    }).then(function (post) {
      redraw(bar, post.reactions || []);
    }).catch(function () {
      if (input) input.value = emoji;  // submit() sends no button: the field carries the emoji
      form.submit();  // let the HTML route answer (it shows a readable error page)
    }).then(function () {
      form.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
    });
  }

  function bind(root) {
    root.querySelectorAll("[data-reactions] form[data-react]").forEach(function (form) {
      form.addEventListener("submit", onSubmit);
    });
  }

  // app.js runs Cairn.enhance(document) once the page is parsed, and again on posts that
  // live.js inserts
  if (window.Cairn && window.Cairn.onEnhance) window.Cairn.onEnhance(bind);
  else document.addEventListener("DOMContentLoaded", function () { bind(document); });
})();
