import { deflateSync, crc32 } from 'node:zlib';

/** Magic numbers of the image types Gotify accepts (h2non/filetype IsImage, the common subset). */
const SIGNATURES: readonly (readonly number[])[] = [
  [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], // png
  [0xff, 0xd8, 0xff], // jpeg
  [0x47, 0x49, 0x46, 0x38], // gif
  [0x42, 0x4d], // bmp
  [0x49, 0x49, 0x2a, 0x00], // tiff (LE)
  [0x4d, 0x4d, 0x00, 0x2a], // tiff (BE)
  [0x00, 0x00, 0x01, 0x00], // ico
];

export function isImage(data: Uint8Array): boolean {
  if (data.length >= 12 && Buffer.from(data.subarray(0, 4)).toString('latin1') === 'RIFF' && Buffer.from(data.subarray(8, 12)).toString('latin1') === 'WEBP') {
    return true;
  }
  return SIGNATURES.some((sig) => data.length >= sig.length && sig.every((b, i) => data[i] === b));
}

/** Gotify's ValidApplicationImageExt. */
export function validImageExtension(ext: string): boolean {
  return ['.gif', '.png', '.jpg', '.jpeg'].includes(ext.toLowerCase());
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/**
 * The default application image served at /static/defaultapp.png: a 64×64 rounded tile drawn
 * here so the repository carries no binary asset.
 */
export function defaultAppImage(): Buffer {
  const size = 64;
  const raw = Buffer.alloc((size * 4 + 1) * size);
  for (let y = 0; y < size; y++) {
    const row = y * (size * 4 + 1);
    raw[row] = 0; // filter: none
    for (let x = 0; x < size; x++) {
      const dx = Math.max(0, Math.abs(x - 31.5) - 20);
      const dy = Math.max(0, Math.abs(y - 31.5) - 20);
      const inside = dx * dx + dy * dy <= 144;
      const bell = Math.abs(x - 31.5) < 12 && y > 18 && y < 42 && (y < 38 || Math.abs(x - 31.5) < 4);
      const o = row + 1 + x * 4;
      if (!inside) continue;
      const [r, g, b] = bell ? [255, 255, 255] : [33, 118, 210];
      raw[o] = r;
      raw[o + 1] = g;
      raw[o + 2] = b;
      raw[o + 3] = 255;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
