/**
 * The run's output folder, made ready before anything runs: a run that cannot write its results
 * must fail in its first second, not after thirty minutes of training. Also turns scenario names
 * (free text) into folder names that stay inside runs/.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The output folder cannot be used (shown to the user as is). */
export class OutDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutDirError';
  }
}

/** A scenario name as one folder-name component: letters, digits, ".", "_", "-"; never "." or "..". */
export function safeFolderName(name: string): string {
  const cleaned = name
    .normalize('NFKC')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/^[.-]+/, '')
    .replace(/-+$/, '')
    .slice(0, 80);
  return cleaned.length > 0 ? cleaned : 'run';
}

function explain(err: NodeJS.ErrnoException, dir: string): string {
  switch (err.code) {
    case 'ENOTDIR':
      return `a part of ${dir} is a file, not a folder`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied (${err.path ?? dir})`;
    case 'EROFS':
      return 'the file system is read-only';
    case 'ENOENT':
      return `cannot create it here (${err.path ?? dir} cannot hold new folders)`;
    case 'ENOSPC':
      return 'no space left on the device';
    default:
      return err.message;
  }
}

/**
 * mkdir -p one component at a time. Node's recursive mkdir retries forever where the parent exists
 * but refuses new entries with ENOENT (e.g. /proc/nope): that was a hang, this is an error.
 */
function createFolders(dir: string): void {
  const missing: string[] = [];
  let at = dir;
  while (!fs.existsSync(at)) {
    missing.unshift(at);
    const parent = path.dirname(at);
    if (parent === at) break;
    at = parent;
  }
  for (const d of missing) fs.mkdirSync(d);
}

/** Folders whose contents --overwrite must never delete. */
function precious(dir: string): boolean {
  const home = os.homedir();
  const cwd = process.cwd();
  return dir === path.parse(dir).root || dir === home || cwd === dir || cwd.startsWith(dir + path.sep);
}

/**
 * Creates `dir` (and its parents) or checks the existing one: a folder, empty unless `overwrite`
 * (which empties it first), writable (a probe file is written and removed). Throws OutDirError.
 */
export function prepareOutDir(dir: string, options: { overwrite?: boolean; flag?: string } = {}): void {
  const flag = options.flag ?? '--out';
  const abs = path.resolve(dir);
  let st: fs.Stats | null = null;
  try {
    st = fs.statSync(abs);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new OutDirError(`${flag} ${abs}: ${explain(err as NodeJS.ErrnoException, abs)}`);
  }
  if (st && !st.isDirectory()) throw new OutDirError(`${flag} ${abs} is a file; give a folder`);
  if (st) {
    const entries = fs.readdirSync(abs);
    if (entries.length > 0 && !options.overwrite) {
      throw new OutDirError(
        `${flag} ${abs} is not empty (${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}, e.g. ${entries[0]}); ` +
          `old and new results would mix. Choose another folder, or pass --overwrite to empty it first.`,
      );
    }
    if (entries.length > 0) {
      if (precious(abs))
        throw new OutDirError(`${flag} ${abs}: --overwrite will not empty the root, your home folder or the current folder`);
      for (const e of entries) fs.rmSync(path.join(abs, e), { recursive: true, force: true });
    }
  } else {
    try {
      createFolders(abs);
    } catch (err) {
      throw new OutDirError(`${flag} ${abs}: ${explain(err as NodeJS.ErrnoException, abs)}`);
    }
  }
  const probe = path.join(abs, `.fedleak-write-test-${process.pid}`);
  try {
    fs.writeFileSync(probe, 'ok');
    fs.rmSync(probe);
  } catch (err) {
    throw new OutDirError(`${flag} ${abs} is not writable: ${explain(err as NodeJS.ErrnoException, abs)}`);
  }
}
