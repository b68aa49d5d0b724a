// Small improvements over the plain pages, which work without this file.
(function () {
  "use strict";
  // The resend button waits out the cooldown the page was rendered with.
  document.querySelectorAll("[data-cooldown]").forEach(function (button) {
    var left = parseInt(button.getAttribute("data-cooldown"), 10) || 0;
    var note = button.parentNode.querySelector("[data-cooldown-note]");
    var shown = note && note.querySelector("[data-seconds]");
    if (left <= 0) return;
    button.disabled = true;
    var timer = setInterval(function () {
      left -= 1;
      if (shown) shown.textContent = String(left);
      if (left <= 0) {
        clearInterval(timer);
        button.disabled = false;
        if (note) note.hidden = true;
      }
    }, 1000);
  });
  // A form sent once is not sent again by a second click (the server ignores repeats too).
  document.addEventListener("submit", function (event) {
    var button = event.target.querySelector("[data-once]");
    if (!button) return;
    if (button.getAttribute("data-sent")) { event.preventDefault(); return; }
    button.setAttribute("data-sent", "1");
    setTimeout(function () { button.disabled = true; }, 0);
  });
  // The order page follows the order until nothing more happens without the traveller.
  var progress = document.getElementById("progress");
  var every = progress && parseInt(progress.getAttribute("data-poll"), 10);
  if (!every) return;
  function poll() {
    fetch(progress.getAttribute("data-url"), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) return;
        var changed = progress.innerHTML.trim() !== html.trim();
        if (changed) progress.innerHTML = html;
        var section = progress.querySelector("[data-settled]");
        if (!section || section.getAttribute("data-settled") !== "true") {
          setTimeout(poll, every * 1000);
        }
      })
      .catch(function () { setTimeout(poll, every * 2000); });
  }
  setTimeout(poll, every * 1000);
})();
