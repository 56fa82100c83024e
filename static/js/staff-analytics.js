/*
 * The staff panel's platform analytics charts (templates/adminpanel/analytics.html): Chart.js
 * (static/vendor/chart.js/) draws each <canvas data-analytics-chart="<metric>"> from the JSON in
 * #analytics-chart-data (json_script, which the CSP allows; no inline script). Money arrives in minor
 * units with the currency's exponent and is divided here for the axis only; the exact totals are the
 * figures above the charts, which are the page without JavaScript.
 */
(function () {
  "use strict";

  var PRIMARY = "#0e5a4b";
  var PRIMARY_SOFT = "rgba(14, 90, 75, 0.15)";
  var ACCENT = "#c98a0b";

  function draw(canvas, data) {
    var key = canvas.getAttribute("data-analytics-chart");
    var values = data.series[key];
    if (!values) {
      return null;
    }
    var money = data.money.indexOf(key) !== -1;
    var divisor = money ? Math.pow(10, data.exponent) : 1;
    var label = data.titles[key] + (money ? " (" + data.currency + ")" : "");
    return new window.Chart(canvas, {
      type: money ? "line" : "bar",
      data: {
        labels: data.labels,
        datasets: [{
          label: label,
          data: values.map(function (value) { return value / divisor; }),
          borderColor: money ? PRIMARY : ACCENT,
          backgroundColor: money ? PRIMARY_SOFT : ACCENT,
          fill: money,
          tension: 0.25,
          pointRadius: data.labels.length > 45 ? 0 : 2
        }]
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { display: false } },
        scales: {
          x: { ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 6 } },
          y: { beginAtZero: true, ticks: { maxTicksLimit: 5 } }
        }
      }
    });
  }

  function start() {
    var island = document.getElementById("analytics-chart-data");
    if (!island || typeof window.Chart === "undefined") {
      return;
    }
    var data = JSON.parse(island.textContent);
    document.querySelectorAll("canvas[data-analytics-chart]").forEach(function (canvas) {
      canvas.setAttribute("data-drawn", draw(canvas, data) ? "true" : "false");
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
