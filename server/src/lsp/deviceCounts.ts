/**
 * Counts of hard-coded devices per device and per place in the archive, shared by the
 * diagnostics summary and the archive editor. Free of dependencies so that the client can
 * bundle it.
 */
import type { FileReport, Finding, FindingCode } from '../analysis/types';

/** Place of a finding in the archive, as the summary counts it. */
export type Place = 'code' | 'constants' | 'parameters' | 'tracedInputs' | 'bytecode' | 'attributes' | 'storages';

export const PLACE_ORDER: readonly Place[] = ['code', 'constants', 'parameters', 'tracedInputs', 'bytecode', 'attributes', 'storages'];

export const PLACE_OF_CODE: Readonly<Record<FindingCode, Place>> = {
  'code-device-literal': 'code',
  'code-device-two-argument': 'code',
  'code-device-from-attribute': 'code',
  'code-device-move-by-name': 'code',
  'constant-storage-location': 'constants',
  'parameter-storage-location': 'parameters',
  'traced-input-storage-location': 'tracedInputs',
  'bytecode-storage-location': 'bytecode',
  'bytecode-device-constant': 'bytecode',
  'device-attribute': 'attributes',
  'device-string-attribute': 'attributes',
  'checkpoint-storage-location': 'storages',
};

const STORAGE_CODES: ReadonlySet<FindingCode> = new Set([
  'constant-storage-location',
  'parameter-storage-location',
  'traced-input-storage-location',
  'bytecode-storage-location',
  'checkpoint-storage-location',
]);

/** Returns whether the finding covers the storages of one pickle record on one device. */
export function isStorageFinding(finding: Finding): boolean {
  return STORAGE_CODES.has(finding.code);
}

/**
 * Counts hard-coded devices per device and place; devices keep the order in which they
 * first appear. The engine reports the storages of one record on one device as a single
 * finding, so such a finding counts as many storages as `info.storageLocations` lists for
 * its record and device (1 when the report has no such entry).
 */
export function countDevices(report: Pick<FileReport, 'findings' | 'info'>): Map<string, Map<Place, number>> {
  const storageCounts = new Map<string, number>();
  for (const entry of report.info?.storageLocations ?? []) {
    storageCounts.set(`${entry.record}\n${entry.device}`, entry.count);
  }

  const counts = new Map<string, Map<Place, number>>();
  for (const finding of report.findings) {
    let places = counts.get(finding.device);
    if (!places) {
      places = new Map();
      counts.set(finding.device, places);
    }
    const weight = isStorageFinding(finding) ? (storageCounts.get(`${finding.record}\n${finding.device}`) ?? 1) : 1;
    const place = PLACE_OF_CODE[finding.code];
    places.set(place, (places.get(place) ?? 0) + weight);
  }
  return counts;
}
