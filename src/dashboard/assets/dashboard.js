// Draws the trend chart from the JSON island the server rendered. Loaded after chart.umd.min.js.
(() => {
  const island = document.getElementById('trend-data');
  const canvas = document.getElementById('trend');
  if (!island || !canvas || typeof window.Chart !== 'function') return;
  const series = JSON.parse(island.textContent || '{}');
  if (!series.days || series.days.length === 0) {
    canvas.hidden = true;
    return;
  }
  new window.Chart(canvas, {
    type: 'line',
    data: {
      labels: series.days,
      datasets: [
        {
          label: 'Compliance %',
          data: series.compliance,
          borderColor: '#2563eb',
          backgroundColor: '#2563eb',
          tension: 0.2,
        },
        {
          label: 'Complete %',
          data: series.complete,
          borderColor: '#16a34a',
          backgroundColor: '#16a34a',
          tension: 0.2,
        },
      ],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: 'index', intersect: false },
      scales: { y: { min: 0, max: 100, ticks: { callback: (v) => `${v}%` } } },
      plugins: { legend: { position: 'bottom' } },
    },
  });
})();
