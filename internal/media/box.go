package media

import (
	"encoding/binary"
	"fmt"
	"io"
)

// boxLayout is what the top-level ISO BMFF (MP4/MOV) box headers of a file
// say. Reading them in Go is cheaper and more exact than asking ffprobe,
// which reports neither the box order nor a box cut short.
type boxLayout struct {
	// ISO is set when the file starts with a known top-level box type; a
	// text file named .mp4 does not.
	ISO bool
	// Moov and Mdat are the offsets of the first moov and mdat boxes, -1
	// when absent.
	Moov, Mdat int64
	// Truncated is set when a box header or box claims bytes beyond the end
	// of the file: the file was cut short.
	Truncated bool
}

// FastStart reports whether the index (moov) comes before the media data,
// so a player can start before the whole file has arrived.
func (l boxLayout) FastStart() bool {
	return l.Moov >= 0 && (l.Mdat < 0 || l.Moov < l.Mdat)
}

// maxBoxes bounds the walk: real files have a handful of top-level boxes
// (fragmented MP4 a few thousand), and a crafted file must not loop long.
const maxBoxes = 100000

// isTopLevelType reports whether a box of this type may open an ISO BMFF
// file. Old QuickTime files may start with something other than ftyp.
func isTopLevelType(typ string) bool {
	switch typ {
	case "ftyp", "styp", "moov", "mdat", "free", "skip", "wide", "pnot",
		"uuid", "sidx", "moof", "junk", "pdin":
		return true
	}
	return false
}

// scanBoxes walks the top-level box headers of an ISO BMFF file of the given
// size. It reads only the headers, never the payloads.
func scanBoxes(r io.ReaderAt, size int64) (boxLayout, error) {
	l := boxLayout{Moov: -1, Mdat: -1}
	var hdr [16]byte
	off := int64(0)
	for i := 0; off < size && i < maxBoxes; i++ {
		if size-off < 8 {
			// A header cut in the middle.
			l.Truncated = l.ISO
			break
		}
		if _, err := r.ReadAt(hdr[:8], off); err != nil {
			return l, fmt.Errorf("read box header at %d: %w", off, err)
		}
		boxSize := int64(binary.BigEndian.Uint32(hdr[:4]))
		typ := string(hdr[4:8])
		if i == 0 {
			l.ISO = isTopLevelType(typ)
			if !l.ISO {
				return l, nil
			}
		}
		headerLen := int64(8)
		switch boxSize {
		case 0: // The box extends to the end of the file.
			boxSize = size - off
		case 1: // A 64-bit size follows the type.
			if size-off < 16 {
				l.Truncated = true
				return l, nil
			}
			if _, err := r.ReadAt(hdr[8:16], off+8); err != nil {
				return l, fmt.Errorf("read box size at %d: %w", off, err)
			}
			u := binary.BigEndian.Uint64(hdr[8:16])
			if u > uint64(1<<62) {
				l.Truncated = true
				return l, nil
			}
			boxSize = int64(u)
			headerLen = 16
		}
		if boxSize < headerLen {
			// A corrupt header: nothing after it can be trusted.
			return l, nil
		}
		switch typ {
		case "moov":
			if l.Moov < 0 {
				l.Moov = off
			}
		case "mdat":
			if l.Mdat < 0 {
				l.Mdat = off
			}
		}
		if boxSize > size-off {
			l.Truncated = true
			return l, nil
		}
		off += boxSize
	}
	return l, nil
}
