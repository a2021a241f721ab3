/**
 * The dashboard's one HTML page, for a class on a projector: the verdict so far, test accuracy per
 * round (an SVG chart with ticks on both axes), one table row per attack sorted by round and client
 * (live restart, iteration and objective, then its scores), and the reconstructions: while an attack
 * runs its current guess (sharper as it converges), then the comparison with the original. Sections
 * stay hidden until they have something to show. It loads the socket.io browser client the
 * socket.io server serves itself; no other assets.
 */

const STYLE = `
  body { font: 15px/1.4 system-ui, sans-serif; margin: 1.5em auto; max-width: 1100px; color: #222; padding: 0 1em; }
  h1 { font-size: 1.35em; margin: 0 0 .2em; } h2 { font-size: 1.1em; margin: 1.4em 0 .4em; }
  [hidden] { display: none !important; }
  #status { color: #666; } #status.live::before { content: "● "; color: #2a2; }
  .verdict { border-left: 6px solid #999; background: #f7f7f7; padding: .5em 1em; margin: .4em 0; }
  .verdict.leaks { border-color: #b00020; } .verdict.partly { border-color: #e08a00; } .verdict.resisted { border-color: #2a8a2a; }
  .badge { display: inline-block; font-weight: 700; color: #fff; background: #777; border-radius: 3px; padding: 0 .4em; margin-right: .4em; }
  .leaks .badge { background: #b00020; } .partly .badge { background: #e08a00; } .resisted .badge { background: #2a8a2a; }
  svg { background: #fafafa; border: 1px solid #ddd; }
  table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
  th, td { border-bottom: 1px solid #eee; padding: 3px 8px; text-align: right; } th:nth-child(-n+3), td:nth-child(-n+3) { text-align: left; }
  td.error { color: #b00; text-align: left; }
  progress { width: 6em; vertical-align: middle; }
  #images { display: flex; flex-wrap: wrap; gap: 14px; }
  figure { margin: 0; } figure img { image-rendering: pixelated; border: 1px solid #ccc; display: block; }
  figure img.guess { width: 112px; height: auto; }
  figcaption { font-size: 12px; color: #555; max-width: 240px; }
  #log { font: 12px monospace; color: #555; white-space: pre-wrap; max-height: 12em; overflow: auto; }
`;

// Plain ES5 in the page: no build step, nothing to load but socket.io's own client.
const SCRIPT = `
(function () {
  var rounds = [], total = 0, rows = {}, figures = {};
  var $ = function (id) { return document.getElementById(id); };
  function key(e) { return e.round + '/' + e.target + '/' + e.view + (e.variant ? '/' + e.variant : ''); }
  // Sort by round, then client (c2 before c10), then view and variant.
  function order(e) { var m = /^(.*?)(\\d+)$/.exec(e.target) || [null, e.target, '0']; return [e.round, m[1], Number(m[2]), e.view, e.variant || '']; }
  function before(a, b) { for (var i = 0; i < a.length; i++) { if (a[i] < b[i]) return true; if (a[i] > b[i]) return false; } return false; }
  function insertSorted(parent, el, e) {
    el.dataset.order = JSON.stringify(order(e));
    var kids = parent.children;
    for (var i = 0; i < kids.length; i++) if (before(order(e), JSON.parse(kids[i].dataset.order))) { parent.insertBefore(el, kids[i]); return; }
    parent.appendChild(el);
  }
  function cell(tr, i, text, cls) { var td = tr.children[i]; td.textContent = text; if (cls) td.className = cls; return td; }
  function who(e) { return e.target + (e.view === 'plain' ? '' : ' (' + e.view + ')') + (e.variant ? ' [' + e.variant + ']' : ''); }
  function row(e) {
    var k = key(e);
    if (!rows[k]) {
      var tr = document.createElement('tr');
      for (var i = 0; i < 10; i++) tr.appendChild(document.createElement('td'));
      cell(tr, 0, String(e.round)); cell(tr, 1, who(e)); cell(tr, 2, e.attack);
      insertSorted($('attacks'), tr, e); rows[k] = tr; $('attacks-section').hidden = false;
    }
    return rows[k];
  }
  function figure(e) {
    var k = key(e);
    if (!figures[k]) {
      var fig = document.createElement('figure'), img = document.createElement('img'), cap = document.createElement('figcaption');
      img.alt = 'round ' + e.round + ' ' + e.target; fig.appendChild(img); fig.appendChild(cap);
      insertSorted($('images'), fig, e); figures[k] = fig; $('images-section').hidden = false;
    }
    return figures[k];
  }
  function num(v, d) { return typeof v === 'number' && isFinite(v) ? v.toFixed(d) : '–'; }
  function roundTicks(n) { var step = Math.max(1, Math.ceil(n / 10)), t = []; for (var r = 1; r <= n; r += step) t.push(r); if (t[t.length - 1] !== n) t.push(n); return t; }
  function drawChart() {
    if (rounds.length === 0) return;
    $('chart-section').hidden = false;
    var svg = $('chart'), W = 680, H = 240, L = 52, B = 44, T = 12, R = 16;
    var n = Math.max(total, rounds.length, 1);
    var x = function (r) { return L + (n === 1 ? 0.5 : (r - 1) / (n - 1)) * (W - L - R); };
    var y = function (a) { return T + (1 - a) * (H - T - B); };
    var s = '<line x1="' + L + '" x2="' + L + '" y1="' + T + '" y2="' + (H - B) + '" stroke="#888"/><line x1="' + L + '" x2="' + (W - R) + '" y1="' + (H - B) + '" y2="' + (H - B) + '" stroke="#888"/>';
    for (var g = 0; g <= 5; g++) { var a = g / 5; s += '<line x1="' + L + '" x2="' + (W - R) + '" y1="' + y(a) + '" y2="' + y(a) + '" stroke="#e5e5e5"/><line x1="' + (L - 5) + '" x2="' + L + '" y1="' + y(a) + '" y2="' + y(a) + '" stroke="#888"/><text x="' + (L - 8) + '" y="' + (y(a) + 4) + '" font-size="11" text-anchor="end">' + (100 * a) + '%</text>'; }
    roundTicks(n).forEach(function (r) { s += '<line x1="' + x(r) + '" x2="' + x(r) + '" y1="' + (H - B) + '" y2="' + (H - B + 5) + '" stroke="#888"/><text x="' + x(r) + '" y="' + (H - B + 18) + '" font-size="11" text-anchor="middle">' + r + '</text>'; });
    s += '<text x="' + ((L + W - R) / 2) + '" y="' + (H - 6) + '" font-size="12" text-anchor="middle">round</text>';
    s += '<text transform="translate(14 ' + ((T + H - B) / 2) + ') rotate(-90)" font-size="12" text-anchor="middle">test accuracy</text>';
    // No test data on the server (data.dataset "none"): accuracy arrives as null, not measured.
    var measured = rounds.filter(function (r) { return Number.isFinite(r.testAccuracy); });
    var pts = measured.map(function (r) { return x(r.round) + ',' + y(r.testAccuracy); });
    s += '<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="' + pts.join(' ') + '"/>';
    measured.forEach(function (r) { s += '<circle r="3.5" fill="#1f77b4" cx="' + x(r.round) + '" cy="' + y(r.testAccuracy) + '"><title>round ' + r.round + ': ' + (100 * r.testAccuracy).toFixed(1) + '%</title></circle>'; });
    svg.innerHTML = s;
    var last = rounds[rounds.length - 1];
    $('rounds').textContent = 'round ' + last.round + ' of ' + total + ': ' + (Number.isFinite(last.testAccuracy) ? 'test accuracy ' + (100 * last.testAccuracy).toFixed(1) + '%, loss ' + last.testLoss.toFixed(4) : 'test accuracy not measured (no test data on the server)') + (last.dropped.length ? ', dropped ' + last.dropped.join(', ') : '');
  }
  function onVerdict(v) {
    var box = $('verdict'); box.innerHTML = '';
    v.threats.forEach(function (t) {
      var d = document.createElement('div'), h = document.createElement('div'), b = document.createElement('span'), p = document.createElement('div');
      d.className = 'verdict ' + t.level; b.className = 'badge'; b.textContent = t.level.replace('-', ' ').toUpperCase();
      h.appendChild(b); h.appendChild(document.createTextNode(t.title)); p.textContent = t.headline;
      d.appendChild(h); d.appendChild(p); box.appendChild(d);
    });
    $('verdict-section').hidden = v.threats.length === 0;
  }
  function live() { $('status').textContent = 'live'; $('status').className = 'live'; }
  function onRound(m) { live(); total = m.totalRounds; rounds = rounds.filter(function (r) { return r.round !== m.record.round; }).concat([m.record]).sort(function (a, b) { return a.round - b.round; }); drawChart(); }
  function onStart(e) { live(); var tr = row(e); cell(tr, 4, '0/' + e.iterations); }
  function onProgress(e) {
    var tr = row(e), all = e.total || 0;
    if (typeof e.restart === 'number' && e.restarts > 1) cell(tr, 3, (e.restart + 1) + ' of ' + e.restarts);
    var td = cell(tr, 4, all ? e.iteration + '/' + all + ' ' : String(e.iteration));
    if (all) { var bar = document.createElement('progress'); bar.max = all; bar.value = e.iteration; td.appendChild(bar); }
    cell(tr, 5, e.objective.toExponential(3));
    if (e.previewUrl) {
      var fig = figure(e), img = fig.children[0];
      img.src = e.previewUrl; img.className = 'guess';
      fig.children[1].textContent = 'round ' + e.round + ', ' + who(e) + ': guess at step ' + e.iteration + (typeof e.restart === 'number' && e.restarts > 1 ? ', restart ' + (e.restart + 1) + ' of ' + e.restarts : '');
    }
  }
  function onDone(m) {
    var r = m.record, tr = row(r);
    cell(tr, 4, String(r.iterations)); cell(tr, 5, typeof r.finalObjective === 'number' ? r.finalObjective.toExponential(3) : '–');
    if (r.error) { cell(tr, 6, r.error, 'error'); tr.children[6].colSpan = 4; while (tr.children.length > 7) tr.removeChild(tr.lastChild); return; }
    cell(tr, 6, num(r.psnr, 2)); cell(tr, 7, num(r.ssim, 3)); cell(tr, 8, num(100 * r.labelAccuracy, 0) + '%'); cell(tr, 9, num(r.seconds, 1));
    if (m.image) {
      var fig = figure(r), img = fig.children[0];
      img.src = m.image; img.className = '';
      fig.children[1].textContent = 'round ' + r.round + ', ' + who(r) + ': original above, reconstruction below; PSNR ' + num(r.psnr, 1) + ' dB, SSIM ' + num(r.ssim, 2);
    }
  }
  function onLog(line) { $('log-section').hidden = false; var d = $('log'); d.textContent += line + '\\n'; d.scrollTop = d.scrollHeight; }
  function ended() { $('status').textContent = 'run finished'; $('status').className = ''; }
  // The access token of the printed URL goes with the socket.io handshake (server/dashboard/access.ts).
  var token = new URLSearchParams(location.search).get('token') || '';
  var socket = io({ query: { token: token } });
  socket.on('connect', live);
  socket.on('disconnect', function () { $('status').textContent = 'disconnected'; $('status').className = ''; });
  socket.on('state', function (s) {
    rounds = []; rows = {}; figures = {}; $('attacks').innerHTML = ''; $('images').innerHTML = ''; $('log').textContent = '';
    total = s.totalRounds;
    s.rounds.forEach(function (r) { onRound({ record: r, totalRounds: s.totalRounds }); });
    s.running.forEach(function (e) { onStart(e); if (e.progress) onProgress(Object.assign({}, e.progress, { previewUrl: e.previewUrl })); });
    s.attacks.forEach(onDone); s.log.forEach(onLog); onVerdict({ threats: s.verdict || [] }); drawChart();
    if (s.ended) ended();
  });
  socket.on('round', onRound);
  socket.on('attack-start', onStart);
  socket.on('attack-progress', onProgress);
  socket.on('attack-done', onDone);
  socket.on('verdict', onVerdict);
  socket.on('log', onLog);
  socket.on('end', ended);
})();
`;

export function dashboardHtml(title: string): string {
  const safeTitle = title.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<title>fedleak · ${safeTitle}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>fedleak · ${safeTitle}</h1>
<div id="status">connecting…</div>
<section id="verdict-section" hidden><h2>Verdict so far</h2><div id="verdict"></div></section>
<section id="chart-section" hidden><h2>Test accuracy per round</h2>
<svg id="chart" width="680" height="240" viewBox="0 0 680 240" role="img" aria-label="test accuracy per round"></svg>
<div id="rounds"></div></section>
<section id="attacks-section" hidden><h2>Attacks</h2>
<table><thead><tr><th>round</th><th>target</th><th>attack</th><th>restart</th><th>iteration</th><th>objective</th><th>PSNR dB</th><th>SSIM</th><th>labels</th><th>seconds</th></tr></thead>
<tbody id="attacks"></tbody></table></section>
<section id="images-section" hidden><h2>Reconstructions (live guesses while an attack runs)</h2>
<div id="images"></div></section>
<section id="log-section" hidden><h2>Log</h2>
<div id="log"></div></section>
<script src="/socket.io/socket.io.min.js"></script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
