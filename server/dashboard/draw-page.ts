/**
 * "Draw a digit, watch it leak": the page a student draws on. Its script (browser-bundle.ts) makes
 * the browser a client of the run; the socket.io feed shows what the curious server reconstructs
 * from that client's update, next to the drawing it was made from.
 */

export function drawPageHtml(title: string): string {
  const safeTitle = title.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<title>fedleak · draw a digit · ${safeTitle}</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 1.5em auto; max-width: 900px; color: #222; padding: 0 1em; }
  h1 { font-size: 1.35em; margin: 0 0 .3em; }
  .row { display: flex; gap: 24px; flex-wrap: wrap; align-items: flex-start; }
  #pad { width: 280px; height: 280px; border: 2px solid #444; touch-action: none; cursor: crosshair; background: #000; }
  .small { width: 140px; height: 140px; image-rendering: pixelated; border: 1px solid #bbb; background: #000; display: block; }
  figure { margin: 0; max-width: 170px; } figcaption { font-size: 13px; color: #555; margin-top: 4px; }
  button, select { font-size: 15px; padding: 4px 12px; margin: 8px 6px 0 0; }
  #draw-status { margin: 10px 0; color: #245; min-height: 1.4em; }
  #psnr { font-size: 1.2em; font-weight: 600; }
  #leak { height: auto; min-height: 140px; }
</style>
</head>
<body>
<h1>Draw a digit, watch it leak</h1>
<p>Your browser joins the federation as a client: it trains on your drawing and sends only its model update.
The curious server rebuilds your drawing from that update.</p>
<div class="row">
  <div>
    <canvas id="pad" width="280" height="280" aria-label="drawing pad"></canvas><br>
    <label>this is a <select id="label">${Array.from({ length: 10 }, (_, d) => `<option value="${d}"${d === 3 ? ' selected' : ''}>${d}</option>`).join('')}</select></label>
    <button id="clear" type="button">clear</button>
    <button id="send" type="button">send my update</button>
  </div>
  <figure><canvas id="drawn" class="small" width="28" height="28"></canvas><figcaption>what your browser trained on (28×28)</figcaption></figure>
  <figure><img id="leak" class="small" alt="the server's reconstruction appears here"><figcaption>top: your drawing (for scoring only); bottom: what the server rebuilt from your update alone <span id="psnr"></span></figcaption></figure>
</div>
<div id="draw-status">draw a digit, pick its label, press “send my update”</div>
<script src="/socket.io/socket.io.min.js"></script>
<script>
(function () {
  var token = new URLSearchParams(location.search).get('token') || '';
  // The client's script needs the access token like every private path of the dashboard.
  var script = document.createElement('script');
  script.src = '/draw.js?token=' + encodeURIComponent(token);
  document.body.appendChild(script);
  // The reconstruction of this browser's own update, from the dashboard's live feed.
  var socket = io({ query: { token: token } });
  function show(m) {
    var mine = document.body.dataset.clientId;
    if (!mine || !m || !m.record || m.record.target !== mine) return;
    if (m.record.error) { document.getElementById('draw-status').textContent = 'the attack failed: ' + m.record.error; return; }
    if (m.image) document.getElementById('leak').src = m.image;
    document.getElementById('psnr').textContent = '— PSNR ' + m.record.psnr.toFixed(1) + ' dB';
    document.body.dataset.psnr = String(m.record.psnr);
    document.getElementById('draw-status').textContent = 'leaked: the server never saw your drawing, only your update';
  }
  socket.on('attack-done', show);
  socket.on('state', function (s) { s.attacks.forEach(show); });
})();
</script>
</body>
</html>
`;
}
