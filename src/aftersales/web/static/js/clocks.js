// Live SLA clocks: every element with data-target (an ISO time) shows the time left, or how long
// it is overdue, and turns amber after its warning time and red once breached. The server sends
// the deadlines; this only counts down, so a page left open stays right without refreshing.
(function () {
  function fmt(seconds) {
    var s = Math.abs(Math.round(seconds));
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    if (d > 0) return d + "d " + h + "h";
    if (h > 0) return h + "h " + (m < 10 ? "0" : "") + m + "m";
    return m + "m " + ((s % 60) < 10 ? "0" : "") + (s % 60) + "s";
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll(".sla-clock[data-target]").forEach(function (el) {
      if (el.dataset.status && el.dataset.status !== "running") return;
      var target = Date.parse(el.dataset.target), warn = el.dataset.warn ? Date.parse(el.dataset.warn) : null;
      var left = (target - now) / 1000;
      var label = el.querySelector(".sla-left") || el;
      label.textContent = left >= 0 ? fmt(left) : "-" + fmt(left);
      el.classList.toggle("sla-breached", left < 0);
      el.classList.toggle("sla-warning", left >= 0 && warn !== null && now >= warn);
    });
  }
  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:afterSwap", tick);
  setInterval(tick, 1000);
})();
