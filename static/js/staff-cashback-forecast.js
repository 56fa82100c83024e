/*
 * The business cashback forecast's charts (templates/adminpanel/cashback_forecast.html): Chart.js
 * (static/vendor/chart.js/) draws each <canvas data-forecast-chart="<currency>"> from the JSON in
 * #forecast-chart-data (json_script; no inline script): the month's cashback stacked by where it
 * comes from, and a line of what is owed at each month end. Minor units are divided for the axis
 * only; the exact figures are the table above each chart, which is the page without JavaScript.
 */
(function () {
  "use strict";

  var PRIMARY = "#0e5a4b";
  var SOFT = "rgba(14, 90, 75, 0.45)";
  var ACCENT = "#c98a0b";
  var DARK = "#1a1a1a";

  function draw(canvas, data) {
    var currency = canvas.getAttribute("data-forecast-chart");
    var figures = data[currency];
    if (!figures) {
      return null;
    }
    var divisor = Math.pow(10, figures.exponent);
    function scaled(values) { return values.map(function (value) { return value / divisor; }); }
    return new window.Chart(canvas, {
      data: {
        labels: figures.labels,
        datasets: [
          { type: "bar", label: "Paid invoices", data: scaled(figures.paid), backgroundColor: PRIMARY, stack: "month" },
          { type: "bar", label: "Unpaid invoices", data: scaled(figures.unpaid), backgroundColor: SOFT, stack: "month" },
          { type: "bar", label: "Projected", data: scaled(figures.projected), backgroundColor: ACCENT, stack: "month" },
          { type: "line", label: "Owed at month end", data: scaled(figures.owed), borderColor: DARK, backgroundColor: DARK, tension: 0.2, stack: "owed" }
        ]
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
        scales: {
          x: { stacked: true, ticks: { maxRotation: 0 } },
          y: { stacked: true, beginAtZero: true, ticks: { maxTicksLimit: 5 }, title: { display: true, text: currency } }
        }
      }
    });
  }

  function start() {
    var island = document.getElementById("forecast-chart-data");
    if (!island || typeof window.Chart === "undefined") {
      return;
    }
    var data = JSON.parse(island.textContent);
    document.querySelectorAll("canvas[data-forecast-chart]").forEach(function (canvas) {
      canvas.setAttribute("data-drawn", draw(canvas, data) ? "true" : "false");
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
