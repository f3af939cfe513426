/**
 * URIs of archives and of their code records.
 *
 * A code record is addressed as `torchscript-code:/<archive file name>/<record>?archive=<file URI>`,
 * for example `torchscript-code:/model.pt/code/__torch__.py?archive%3Dfile%3A%2F%2F%2Fhome%2Fme%2Fmodel.pt`.
 * The record is the record name without the archive's top folder. The query, once
 * percent-decoded, is `archive=` followed by the archive's `file` URI, which alone decides
 * the archive: the file name in the path is there so that editor tabs and the Problems
 * panel show which archive a record belongs to.
 *
 * The strings are built the way VS Code's `Uri.toString()` prints them, so a URI the
 * server publishes compares equal to the one the client sends back. Parsing accepts any
 * valid percent-encoding.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ARCHIVE_EXTENSIONS, CODE_SCHEME } from './protocol';

/**
 * Percent-encodes a URI component as VS Code's `Uri.toString()` does: only the RFC 3986
 * unreserved characters (and `/` in a path) stay as they are.
 */
function encodeComponent(text: string, isPath: boolean): string {
  let result = '';
  for (const char of text) {
    if (/^[A-Za-z0-9\-._~]$/.test(char) || (isPath && char === '/')) result += char;
    else if (/^[!'()*]$/.test(char)) result += `%${char.charCodeAt(0).toString(16).toUpperCase()}`;
    else result += encodeURIComponent(char);
  }
  return result;
}

/** Returns the `file` URI of an absolute path, as VS Code's `Uri.file(path).toString()` prints it. */
export function fileUriFromPath(fsPath: string): string {
  let uriPath = fsPath;
  if (path.sep === '\\') uriPath = uriPath.replace(/\\/g, '/');
  if (!uriPath.startsWith('/')) uriPath = `/${uriPath}`;

  // VS Code lowercases a drive letter and encodes its colon: `C:\x` becomes `file:///c%3A/x`.
  const drive = /^\/([A-Za-z]):/.exec(uriPath);
  if (drive) return `file:///${drive[1].toLowerCase()}%3A${encodeComponent(uriPath.slice(3), true)}`;
  return `file://${encodeComponent(uriPath, true)}`;
}

/** Returns the file path of a `file` URI, or undefined for any other scheme or a malformed URI. */
export function pathFromFileUri(uri: string): string | undefined {
  if (!/^file:/i.test(uri)) return undefined;
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
}

/** Whether the path ends in one of the archive extensions (`.pt`, `.pth`, `.ptl`, `.torchscript`), in any case. */
export function hasArchiveExtension(fsPath: string): boolean {
  const extension = path.extname(fsPath).toLowerCase();
  return (ARCHIVE_EXTENSIONS as readonly string[]).includes(extension);
}

/** Returns the URI of a code record, for example `code/__torch__.py`, in the archive at `archiveUri`. */
export function codeRecordUri(archiveUri: string, record: string): string {
  const archiveName = path.basename(pathFromFileUri(archiveUri) ?? 'archive');
  const recordPath = `/${archiveName}/${record.replace(/^\/+/, '')}`;
  return `${CODE_SCHEME}:${encodeComponent(recordPath, true)}?${encodeComponent(`archive=${archiveUri}`, false)}`;
}

export interface CodeRecordAddress {
  /** `file` URI of the archive. */
  archiveUri: string;
  /** Record name without the top folder, for example `code/__torch__.py`. */
  record: string;
}

/** Splits a code record URI into archive and record; returns undefined for any other URI. */
export function parseCodeRecordUri(uri: string): CodeRecordAddress | undefined {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):([^?#]*)\?([^#]*)$/.exec(uri);
  if (!match || match[1].toLowerCase() !== CODE_SCHEME) return undefined;

  let recordPath: string;
  let query: string;
  try {
    recordPath = decodeURIComponent(match[2]);
    query = decodeURIComponent(match[3]);
  } catch {
    return undefined;
  }

  // A client may send an empty authority (`torchscript-code:///model.pt/code/x.py`). The first
  // segment after it is the archive's file name, and the rest is the record.
  const segments = recordPath.replace(/^\/+/, '');
  const separator = segments.indexOf('/');
  const record = separator === -1 ? '' : segments.slice(separator + 1);
  if (!query.startsWith('archive=') || record === '') return undefined;

  const archiveUri = query.slice('archive='.length);
  if (pathFromFileUri(archiveUri) === undefined) return undefined;
  return { archiveUri, record };
}
