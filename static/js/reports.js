// Report charts: each canvas[data-chart] draws the table of the same key; the numbers come
// from the page's json_script (the same rows the table shows). Without JavaScript the tables
// stand alone.
document.addEventListener("DOMContentLoaded", function () {
  var source = document.getElementById("report-charts");
  if (!source || !window.Chart) return;
  var charts = JSON.parse(source.textContent);
  var style = getComputedStyle(document.body);
  var palette = ["#1d5c8f", "#9e1b1b", "#1e7a46", "#a15c00", "#6b4c9a", "#2a8c8c", "#7a7a7a"];
  Chart.defaults.font.family = style.fontFamily;
  Chart.defaults.color = style.color;
  charts.forEach(function (chart) {
    var canvas = document.querySelector('canvas[data-chart="' + chart.key + '"]');
    if (!canvas) return;
    var datasets = chart.data.datasets.map(function (set, n) {
      var colour = palette[n % palette.length];
      return {
        label: set.label,
        data: set.data,
        backgroundColor: colour,
        borderColor: colour,
        borderRadius: chart.type === "bar" ? 3 : 0,
        pointRadius: chart.data.labels.length > 40 ? 0 : 2,
        tension: 0.2,
      };
    });
    new Chart(canvas, {
      type: chart.type,
      data: { labels: chart.data.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: datasets.length > 1, position: "bottom" } },
        scales: {
          x: {
            ticks: {
              maxRotation: 45,
              autoSkipPadding: 8,
              // A long class or site name (A 马克思主义、列宁主义…) would squeeze the bars into a
              // corner: the axis shows its first characters, the tooltip and the table the
              // whole name. Dates and other plain labels stay whole.
              callback: function (value) {
                var label = String(this.getLabelForValue(value));
                var named = /[^\x00-\x7f]/.test(label);
                return named && label.length > 9 ? label.slice(0, 8) + "…" : label;
              },
            },
          },
          y: { beginAtZero: true, ticks: { precision: 0 } },
        },
      },
    });
  });
});
