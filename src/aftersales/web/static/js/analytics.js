// The service dashboard's daily chart: contacts and resolutions (bars) and the first reply time's
// p50/p90 in minutes (lines, right axis). The server computes every number; this only draws them
// (no inline script: CSP).
(function () {
  function draw(canvas) {
    if (canvas.dataset.drawn || typeof Chart === "undefined") return;
    var d = JSON.parse(canvas.dataset.analytics);
    canvas.dataset.drawn = "1";
    new Chart(canvas, {
      data: {
        labels: d.labels,
        datasets: [
          { type: "bar", label: canvas.dataset.labelContacts, data: d.contacts, backgroundColor: "rgba(25, 118, 210, 0.45)", yAxisID: "y" },
          { type: "bar", label: canvas.dataset.labelResolved, data: d.resolved, backgroundColor: "rgba(46, 125, 50, 0.55)", yAxisID: "y" },
          { type: "line", label: canvas.dataset.labelFrt50, data: d.frt_p50_min, borderColor: "#ef6c00", backgroundColor: "#ef6c00", spanGaps: true, yAxisID: "minutes" },
          { type: "line", label: canvas.dataset.labelFrt90, data: d.frt_p90_min, borderColor: "#c62828", backgroundColor: "#c62828", borderDash: [4, 3], spanGaps: true, yAxisID: "minutes" }
        ]
      },
      options: {
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          y: { beginAtZero: true, ticks: { precision: 0 } },
          minutes: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } }
        }
      }
    });
  }
  function drawAll() { document.querySelectorAll("canvas[data-analytics]").forEach(draw); }
  document.addEventListener("DOMContentLoaded", drawAll);
  document.addEventListener("htmx:afterSwap", drawAll);
})();
