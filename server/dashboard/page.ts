/**
 * The dashboard's one HTML page: test accuracy per round (an SVG line), one table row per attack
 * (live iteration and objective, then its scores) and the reconstruction images as they arrive.
 * It loads the socket.io browser client the socket.io server serves itself; no other assets.
 */

export function dashboardHtml(title: string): string {
  const safeTitle = title.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>fedleak · ${safeTitle}</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em auto; max-width: 1100px; color: #222; padding: 0 1em; }
  h1 { font-size: 1.3em; margin: 0 0 .2em; } h2 { font-size: 1.05em; margin: 1.4em 0 .4em; }
  #status { color: #666; } #status.live::before { content: "● "; color: #2a2; }
  svg { background: #fafafa; border: 1px solid #ddd; }
  table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
  th, td { border-bottom: 1px solid #eee; padding: 3px 8px; text-align: right; } th:nth-child(-n+3), td:nth-child(-n+3) { text-align: left; }
  td.error { color: #b00; text-align: left; }
  #images { display: flex; flex-wrap: wrap; gap: 12px; }
  figure { margin: 0; } figure img { image-rendering: pixelated; border: 1px solid #ccc; display: block; }
  figcaption { font-size: 12px; color: #555; }
  #log { font: 12px monospace; color: #555; white-space: pre-wrap; max-height: 12em; overflow: auto; }
</style>
</head>
<body>
<h1>fedleak · ${safeTitle}</h1>
<div id="status">connecting…</div>
<h2>Test accuracy per round</h2>
<svg id="chart" width="640" height="220" viewBox="0 0 640 220" role="img" aria-label="test accuracy per round"></svg>
<div id="rounds"></div>
<h2>Attacks</h2>
<table><thead><tr><th>round</th><th>target</th><th>attack</th><th>iteration</th><th>objective</th><th>PSNR dB</th><th>SSIM</th><th>labels</th><th>seconds</th></tr></thead>
<tbody id="attacks"></tbody></table>
<h2>Reconstructions (originals above, reconstructions below)</h2>
<div id="images"></div>
<h2>Log</h2>
<div id="log"></div>
<script src="/socket.io/socket.io.min.js"></script>
<script>
(function () {
  var rounds = [], total = 0, rows = {};
  var $ = function (id) { return document.getElementById(id); };
  function key(e) { return e.round + '/' + e.target + '/' + e.view + (e.variant ? '/' + e.variant : ''); }
  function cell(tr, i, text, cls) { var td = tr.children[i]; td.textContent = text; if (cls) td.className = cls; }
  function row(e) {
    var k = key(e);
    if (!rows[k]) {
      var tr = document.createElement('tr');
      for (var i = 0; i < 9; i++) tr.appendChild(document.createElement('td'));
      cell(tr, 0, String(e.round)); cell(tr, 1, e.target + (e.view === 'plain' ? '' : ' (' + e.view + ')')); cell(tr, 2, e.attack);
      $('attacks').appendChild(tr); rows[k] = tr;
    }
    return rows[k];
  }
  function num(v, d) { return typeof v === 'number' && isFinite(v) ? v.toFixed(d) : '–'; }
  function drawChart() {
    var svg = $('chart'), W = 640, H = 220, L = 40, B = 24, T = 10, R = 10;
    var n = Math.max(total, rounds.length, 1);
    var x = function (r) { return L + (n === 1 ? 0.5 : (r - 1) / (n - 1)) * (W - L - R); };
    var y = function (a) { return T + (1 - a) * (H - T - B); };
    var s = '';
    for (var g = 0; g <= 4; g++) { var a = g / 4; s += '<line x1="' + L + '" x2="' + (W - R) + '" y1="' + y(a) + '" y2="' + y(a) + '" stroke="#e5e5e5"/><text x="' + (L - 4) + '" y="' + (y(a) + 4) + '" font-size="10" text-anchor="end">' + (100 * a) + '%</text>'; }
    s += '<text x="' + (W / 2) + '" y="' + (H - 6) + '" font-size="10" text-anchor="middle">round (of ' + n + ')</text>';
    var pts = rounds.map(function (r) { return x(r.round) + ',' + y(r.testAccuracy); });
    if (pts.length) s += '<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="' + pts.join(' ') + '"/>';
    rounds.forEach(function (r) { s += '<circle r="3" fill="#1f77b4" cx="' + x(r.round) + '" cy="' + y(r.testAccuracy) + '"><title>round ' + r.round + ': ' + (100 * r.testAccuracy).toFixed(1) + '%</title></circle>'; });
    svg.innerHTML = s;
    var last = rounds[rounds.length - 1];
    $('rounds').textContent = last ? 'round ' + last.round + '/' + total + ': test accuracy ' + (100 * last.testAccuracy).toFixed(1) + '%, loss ' + last.testLoss.toFixed(4) + (last.dropped.length ? ', dropped ' + last.dropped.join(', ') : '') : 'no round finished yet';
  }
  function live() { $('status').textContent = 'live'; $('status').className = 'live'; }
  function onRound(m) { live(); total = m.totalRounds; rounds = rounds.filter(function (r) { return r.round !== m.record.round; }).concat([m.record]); drawChart(); }
  function onStart(e) { live(); cell(row(e), 3, '0/' + e.iterations); }
  function onProgress(e) { var tr = row(e); cell(tr, 3, e.total ? e.iteration + '/' + e.total : String(e.iteration)); cell(tr, 4, e.objective.toExponential(3)); }
  function onDone(m) {
    var r = m.record, tr = row(r);
    cell(tr, 3, String(r.iterations)); cell(tr, 4, typeof r.finalObjective === 'number' ? r.finalObjective.toExponential(3) : '–');
    if (r.error) { cell(tr, 5, r.error, 'error'); tr.children[5].colSpan = 4; while (tr.children.length > 6) tr.removeChild(tr.lastChild); return; }
    cell(tr, 5, num(r.psnr, 2)); cell(tr, 6, num(r.ssim, 3)); cell(tr, 7, num(100 * r.labelAccuracy, 0) + '%'); cell(tr, 8, num(r.seconds, 1));
    if (m.image) {
      var fig = document.createElement('figure'), img = document.createElement('img'), cap = document.createElement('figcaption');
      img.src = m.image; img.alt = 'round ' + r.round + ' ' + r.target;
      cap.textContent = 'round ' + r.round + ', ' + r.target + ' (' + r.view + '): PSNR ' + num(r.psnr, 1) + ' dB';
      fig.appendChild(img); fig.appendChild(cap); $('images').appendChild(fig);
    }
  }
  function onLog(line) { var d = $('log'); d.textContent += line + '\\n'; d.scrollTop = d.scrollHeight; }
  // The access token of the printed URL goes with the socket.io handshake (server/dashboard/access.ts).
  var token = new URLSearchParams(location.search).get('token') || '';
  var socket = io({ query: { token: token } });
  socket.on('connect', live);
  socket.on('disconnect', function () { $('status').textContent = 'disconnected'; $('status').className = ''; });
  socket.on('state', function (s) {
    rounds = []; rows = {}; $('attacks').innerHTML = ''; $('images').innerHTML = ''; $('log').textContent = '';
    total = s.totalRounds;
    s.rounds.forEach(function (r) { onRound({ record: r, totalRounds: s.totalRounds }); });
    s.running.forEach(function (e) { onStart(e); if (e.progress) onProgress(e.progress); });
    s.attacks.forEach(onDone); s.log.forEach(onLog); drawChart();
    if (s.ended) { $('status').textContent = 'run finished'; $('status').className = ''; }
  });
  socket.on('round', onRound);
  socket.on('attack-start', onStart);
  socket.on('attack-progress', onProgress);
  socket.on('attack-done', onDone);
  socket.on('log', onLog);
  socket.on('end', function () { $('status').textContent = 'run finished'; $('status').className = ''; });
  drawChart();
})();
</script>
</body>
</html>
`;
}
