/** A real `fedleak run … --dashboard 0` child process, with the URLs it prints on stderr. */
import { spawn, type ChildProcess } from 'node:child_process';
import { BIN, ROOT } from './run-cli';

export interface LiveRun {
  child: ChildProcess;
  /** Resolves with the first capture group of the first stderr line matching `pattern`. */
  line(pattern: RegExp): Promise<string>;
  stderr(): string;
  /** Ctrl-C (the dashboard keeps serving after the run until then); resolves on exit. */
  stop(): Promise<void>;
}

export function startLiveRun(args: string[]): LiveRun {
  const child = spawn(process.execPath, [BIN, 'run', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const waiting: Array<{ pattern: RegExp; resolve: (s: string) => void; reject: (e: Error) => void }> = [];
  const check = () => {
    for (const w of [...waiting]) {
      const m = w.pattern.exec(text);
      if (m) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve(m[1]);
      }
    }
  };
  child.stderr?.on('data', (d: Buffer) => {
    text += d.toString();
    check();
  });
  child.stdout?.resume();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => {
    for (const w of waiting.splice(0)) w.reject(new Error(`fedleak run exited before printing ${w.pattern}:\n${text}`));
  });
  return {
    child,
    line: (pattern) =>
      new Promise((resolve, reject) => {
        waiting.push({ pattern, resolve, reject });
        check();
      }),
    stderr: () => text,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      return exited;
    },
  };
}
