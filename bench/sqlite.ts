/**
 * The logical size of a SQLite database on disk (page count × page size), read from its files
 * without opening it: workerd keeps Durable Object databases in WAL mode and rarely checkpoints,
 * so the main file alone says little and the -wal file holds every page version ever written.
 * The size after the last committed transaction is in the WAL's last valid commit frame
 * (https://www.sqlite.org/fileformat.html#the_write_ahead_log), else in the main file's header.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";

function read(fd: number, at: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  const n = readSync(fd, buf, 0, length, at);
  return buf.subarray(0, n);
}

export function sqliteLogicalBytes(path: string): number {
  let pageSize = 0;
  let pages = 0;
  if (existsSync(path) && statSync(path).size >= 100) {
    const fd = openSync(path, "r");
    try {
      const header = read(fd, 0, 100);
      const raw = header.readUInt16BE(16);
      pageSize = raw === 1 ? 65_536 : raw;
      pages = header.readUInt32BE(28);
    } finally {
      closeSync(fd);
    }
  }
  const wal = `${path}-wal`;
  if (existsSync(wal) && statSync(wal).size >= 32) {
    const size = statSync(wal).size;
    const fd = openSync(wal, "r");
    try {
      const header = read(fd, 0, 32);
      const magic = header.readUInt32BE(0);
      if (magic === 0x377f0682 || magic === 0x377f0683) {
        const walPage = header.readUInt32BE(8);
        const salt1 = header.readUInt32BE(16);
        const salt2 = header.readUInt32BE(20);
        for (let at = 32; at + 24 + walPage <= size; at += 24 + walPage) {
          const frame = read(fd, at, 24);
          if (frame.readUInt32BE(8) !== salt1 || frame.readUInt32BE(12) !== salt2) break;
          const committed = frame.readUInt32BE(4);
          if (committed > 0) {
            pages = committed;
            pageSize = walPage;
          }
        }
      }
    } finally {
      closeSync(fd);
    }
  }
  return pages * pageSize;
}
