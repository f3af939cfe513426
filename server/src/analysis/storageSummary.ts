import type { ArchiveScan } from './archiveScan';

/** Counts the storages of each pickle record on each device, for the archive summary. */
export function storageSummary(scan: ArchiveScan): { record: string; device: string; count: number }[] {
  const rows: { record: string; device: string; count: number }[] = [];
  for (const pickle of scan.pickleRecords) {
    const counts = new Map<string, number>();
    for (const storage of pickle.scan.storages) counts.set(storage.location, (counts.get(storage.location) ?? 0) + 1);
    for (const [device, count] of counts) rows.push({ record: pickle.record, device, count });
  }
  return rows;
}
