// Results as you type on the quick check: the server renders the list, this swaps it in.
// Without script the form still works: it submits and the page renders the same list.
(function () {
  "use strict";
  var form = document.querySelector("form[data-live]");
  if (!form) return;
  var input = form.querySelector("input[name=q]");
  var timer = null;
  var latest = 0;
  function refresh() {
    var asked = ++latest;
    var url = form.getAttribute("data-live") + "?q=" + encodeURIComponent(input.value);
    fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null || asked !== latest) return;  // a later keystroke won
        var current = document.getElementById("results");
        var next = new DOMParser().parseFromString(html, "text/html").getElementById("results");
        if (current && next) current.replaceWith(next);
        history.replaceState(null, "", "?q=" + encodeURIComponent(input.value));
      })
      .catch(function () {});
  }
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  });
})();
