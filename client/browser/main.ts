/// <reference lib="dom" />
/**
 * The "draw a digit, watch it leak" page's script (bundled for the browser by the dashboard with
 * esbuild): a canvas to draw on, the drawing downsampled to 28×28 grey, and a click that joins the
 * run as its reserved browser client (session.ts) with the slot the dashboard hands out.
 */
import { tf } from '../../shared/tensor/tf';
import { runBrowserClient } from './session';

const SIZE = 28;

interface Slot {
  url: string;
  token: string;
}

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

function status(text: string): void {
  $('draw-status').textContent = text;
}

/** Freehand strokes, white on black like MNIST, from mouse or touch (pointer events). */
function drawingSurface(canvas: HTMLCanvasElement): { clear: () => void; hasInk: () => boolean } {
  const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
  let ink = false;
  let last: { x: number; y: number } | null = null;
  const clear = () => {
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ink = false;
  };
  const at = (e: PointerEvent) => {
    const r = canvas.getBoundingClientRect();
    return { x: ((e.clientX - r.left) * canvas.width) / r.width, y: ((e.clientY - r.top) * canvas.height) / r.height };
  };
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  canvas.addEventListener('pointerdown', (e) => {
    last = at(e);
    canvas.setPointerCapture(e.pointerId);
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!last) return;
    const p = at(e);
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = canvas.width / 11;
    ctx.beginPath();
    ctx.moveTo(last.x, last.y);
    ctx.lineTo(p.x, p.y);
    ctx.stroke();
    last = p;
    ink = true;
  });
  const end = () => {
    last = null;
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
  clear();
  return { clear, hasInk: () => ink };
}

/** The drawing as 28×28 grey in [0, 1] (the browser's own smoothing averages the big canvas down). */
function downsample(canvas: HTMLCanvasElement): Float32Array {
  const small = document.createElement('canvas');
  small.width = SIZE;
  small.height = SIZE;
  const ctx = small.getContext('2d') as CanvasRenderingContext2D;
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(canvas, 0, 0, SIZE, SIZE);
  const rgba = ctx.getImageData(0, 0, SIZE, SIZE).data;
  const grey = new Float32Array(SIZE * SIZE);
  for (let i = 0; i < grey.length; i++) grey[i] = rgba[4 * i] / 255;
  return grey;
}

function showDrawn(grey: Float32Array): void {
  const c = $<HTMLCanvasElement>('drawn');
  const ctx = c.getContext('2d') as CanvasRenderingContext2D;
  const img = ctx.createImageData(SIZE, SIZE);
  grey.forEach((v, i) => {
    const g = Math.round(v * 255);
    img.data.set([g, g, g, 255], 4 * i);
  });
  ctx.putImageData(img, 0, 0);
}

async function slot(): Promise<Slot> {
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const res = await fetch(`/classroom/slot?token=${encodeURIComponent(token)}`, { cache: 'no-store' });
  if (!res.ok) throw new Error(`the dashboard gave no client slot: ${res.status} ${(await res.text()).trim()}`);
  return (await res.json()) as Slot;
}

async function join(grey: Float32Array, label: number): Promise<void> {
  const s = await slot();
  // The server checks the same gradients the CPU backend computes; webgl's float16 paths would not do.
  await tf.setBackend('cpu');
  status('joining the federation…');
  const end = await runBrowserClient({
    socket: new WebSocket(s.url),
    token: s.token,
    example: { images: grey, label, shape: [SIZE, SIZE, 1] },
    numClasses: 10,
    allowEvaluation: true,
    log: (line) => console.warn(`fedleak browser client: ${line}`),
    onWelcome: (id) => {
      document.body.dataset.clientId = id;
      status(`joined as ${id}; waiting for the round to start…`);
    },
    onUpdateSent: (round) => status(`update for round ${round} sent — now watch the server reconstruct your digit`),
  });
  if (!end.clean) status(`the connection ended: ${end.reason}`);
}

function start(): void {
  const canvas = $<HTMLCanvasElement>('pad');
  const surface = drawingSurface(canvas);
  $('clear').addEventListener('click', () => surface.clear());
  $('send').addEventListener('click', () => {
    if (!surface.hasInk()) return status('draw a digit first');
    const grey = downsample(canvas);
    showDrawn(grey);
    ($('send') as HTMLButtonElement).disabled = true;
    const label = Number(($('label') as HTMLSelectElement).value);
    join(grey, label).catch((err: unknown) => {
      status(`could not join: ${err instanceof Error ? err.message : String(err)}`);
      ($('send') as HTMLButtonElement).disabled = false;
    });
  });
}

start();
