// Keeps each "time remaining" current: every element with data-deadline (an ISO 8601 UTC time)
// gets its text recomputed every 30 s, and its OVERDUE / DUE SOON tag with it (words, not colour).
(function () {
  "use strict";
  var SOON = 4 * 3600;
  function text(secs) {
    var late = secs < 0, s = Math.abs(secs);
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    var t = d ? d + " d " + h + " h" : h ? h + " h " + (m < 10 ? "0" : "") + m + " min" : m + " min";
    return late ? "overdue by " + t : t + " left";
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-deadline]").forEach(function (el) {
      var secs = Math.floor((Date.parse(el.getAttribute("data-deadline")) - now) / 1000);
      var left = el.querySelector(".left");
      if (left) { left.textContent = text(secs); }
      var state = secs < 0 ? "overdue" : secs <= SOON ? "soon" : "";
      var tag = el.querySelector(".tag");
      if (state && !tag) {
        tag = document.createElement("strong");
        tag.className = "tag";
        el.insertBefore(tag, el.firstChild);
        el.insertBefore(document.createTextNode(" "), tag.nextSibling);
      }
      if (tag) { tag.textContent = state === "overdue" ? "OVERDUE" : state === "soon" ? "DUE SOON" : ""; }
      el.classList.toggle("overdue", state === "overdue");
      el.classList.toggle("soon", state === "soon");
    });
  }
  document.addEventListener("DOMContentLoaded", function () { tick(); setInterval(tick, 30000); });
})();
