// Small enhancements for Custos pages; every page works without them.
"use strict";
(function () {
  // Forms marked data-confirm ask before they are sent.
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute && e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) e.preventDefault();
  });
  // <time data-countdown datetime="…"> counts down to a deadline.
  function tick() {
    var now = Date.now();
    document.querySelectorAll("time[data-countdown]").forEach(function (t) {
      var ms = Date.parse(t.getAttribute("datetime")) - now;
      var late = ms < 0, s = Math.floor(Math.abs(ms) / 1000);
      var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
      var txt = (d ? d + "d " : "") + h + "h " + (d ? "" : m + "m");
      t.textContent = late ? "-" + txt : txt;
      t.classList.toggle("late", late);
    });
  }
  if (document.querySelector("time[data-countdown]")) { tick(); setInterval(tick, 30000); }
})();
