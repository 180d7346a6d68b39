// Live SLA clocks: every element with data-target (an ISO time) shows the time left, or how long
// it is overdue, and turns amber after its warning time and red once breached. The server sends
// the deadlines and, in data-words, the page language's formats (web/i18n.fmt_clock writes the
// first text with the same ones); this only counts down, so a page left open stays right.
(function () {
  function fill(format, values) {
    return format.replace(/\{(\w+)\}/g, function (_m, name) { return values[name]; });
  }
  function duration(words, seconds) {
    var s = Math.abs(Math.round(seconds));
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    var sec = s % 60;
    if (d > 0) return fill(words.days_hours, { d: d, h: h });
    if (h > 0) return fill(words.hours_minutes, { h: h, m: m });
    return fill(words.minutes_seconds, { m: m, s: (sec < 10 ? "0" : "") + sec });
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll(".sla-clock[data-target]").forEach(function (el) {
      var status = el.dataset.status;
      if (status && status !== "running" && status !== "breached") return;
      var words;
      try { words = JSON.parse(el.dataset.words || "null"); } catch (e) { words = null; }
      if (!words) return;
      var target = Date.parse(el.dataset.target), warn = el.dataset.warn ? Date.parse(el.dataset.warn) : null;
      var left = (target - now) / 1000;
      var label = el.querySelector(".sla-left") || el;
      label.textContent = fill(left >= 0 ? words.left : words.overdue, { t: duration(words, left) });
      el.classList.toggle("sla-breached", left < 0);
      el.classList.toggle("sla-warning", left >= 0 && warn !== null && now >= warn);
    });
  }
  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:afterSwap", tick);
  setInterval(tick, 1000);
})();
