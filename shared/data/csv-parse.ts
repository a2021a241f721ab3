/**
 * A small RFC 4180 CSV reader: fields separated by commas (or another one-character delimiter),
 * optionally in double quotes (which may hold delimiters, line breaks and "" for a quote), records
 * ended by LF, CRLF or CR. A leading UTF-8 byte order mark is dropped and empty lines are skipped.
 * Each record keeps the line it starts on, so errors can point at it.
 */
import { DataError } from './errors';

export interface CsvRecord {
  /** 1-based line of the file on which the record starts. */
  line: number;
  fields: string[];
}

class Cursor {
  at = 0;
  line = 1;
  constructor(
    readonly text: string,
    readonly delimiter: string,
  ) {}
  get done(): boolean {
    return this.at >= this.text.length;
  }
  peek(): string {
    return this.text[this.at];
  }
  /** Consumes a line break (CRLF, LF or CR) if there is one here. */
  lineBreak(): boolean {
    const ch = this.text[this.at];
    if (ch === '\r') this.at += this.text[this.at + 1] === '\n' ? 2 : 1;
    else if (ch === '\n') this.at += 1;
    else return false;
    this.line++;
    return true;
  }
}

function quotedField(file: string, cur: Cursor): string {
  const startLine = cur.line;
  cur.at++; // opening quote
  let value = '';
  for (;;) {
    if (cur.done) throw new DataError(`${file}: line ${startLine}: a quoted field is never closed (missing ")`);
    if (cur.lineBreak()) {
      value += '\n';
      continue;
    }
    const ch = cur.peek();
    cur.at++;
    if (ch !== '"') {
      value += ch;
    } else if (cur.peek() === '"') {
      value += '"';
      cur.at++;
    } else {
      break;
    }
  }
  if (!cur.done && cur.peek() !== cur.delimiter && cur.peek() !== '\r' && cur.peek() !== '\n') {
    throw new DataError(
      `${file}: line ${cur.line}: unexpected text after a closing quote (a field is "…" followed by a delimiter or line end)`,
    );
  }
  return value;
}

function plainField(cur: Cursor): string {
  const from = cur.at;
  while (!cur.done && cur.peek() !== cur.delimiter && cur.peek() !== '\r' && cur.peek() !== '\n') cur.at++;
  return cur.text.slice(from, cur.at);
}

/** Every non-empty record of `text`, in order. `file` only names the source in errors. */
export function parseCsv(file: string, text: string, delimiter = ','): CsvRecord[] {
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\r' || delimiter === '\n') {
    throw new DataError(
      `${file}: the CSV delimiter must be one character other than a quote or line break, got ${JSON.stringify(delimiter)}`,
    );
  }
  const cur = new Cursor(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, delimiter);
  const records: CsvRecord[] = [];
  while (!cur.done) {
    if (cur.lineBreak()) continue; // empty line
    const line = cur.line;
    const fields: string[] = [];
    for (;;) {
      fields.push(cur.peek() === '"' ? quotedField(file, cur) : plainField(cur));
      if (cur.done || cur.lineBreak()) break;
      cur.at++; // the delimiter
    }
    records.push({ line, fields });
  }
  return records;
}
