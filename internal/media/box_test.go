package media

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// box builds a box header of the given size and type, plus payload bytes
// (which may be fewer than size says, to make a truncated file).
func box(size uint32, typ string, payload int) []byte {
	b := binary.BigEndian.AppendUint32(nil, size)
	b = append(b, typ...)
	return append(b, make([]byte, payload)...)
}

func largeBox(size uint64, typ string, payload int) []byte {
	b := binary.BigEndian.AppendUint32(nil, 1)
	b = append(b, typ...)
	b = binary.BigEndian.AppendUint64(b, size)
	return append(b, make([]byte, payload)...)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestScanBoxes(t *testing.T) {
	t.Parallel()
	ftyp := box(16, "ftyp", 8)
	tests := []struct {
		name string
		data []byte
		want boxLayout
		fast bool
	}{
		{"moov first", cat(ftyp, box(16, "moov", 8), box(24, "mdat", 16)), boxLayout{ISO: true, Moov: 16, Mdat: 32}, true},
		{"moov last", cat(ftyp, box(8, "free", 0), box(24, "mdat", 16), box(16, "moov", 8)), boxLayout{ISO: true, Moov: 48, Mdat: 24}, false},
		{"64-bit mdat", cat(ftyp, largeBox(32, "mdat", 16), box(16, "moov", 8)), boxLayout{ISO: true, Moov: 48, Mdat: 16}, false},
		{"mdat to end of file", cat(ftyp, box(16, "moov", 8), box(0, "mdat", 100)), boxLayout{ISO: true, Moov: 16, Mdat: 32}, true},
		{"no moov", cat(ftyp, box(24, "mdat", 16)), boxLayout{ISO: true, Moov: -1, Mdat: 16}, false},
		{"fragmented", cat(ftyp, box(16, "moov", 8), box(16, "moof", 8), box(16, "mdat", 8)), boxLayout{ISO: true, Moov: 16, Mdat: 48}, true},
		{"mdat cut short", cat(ftyp, box(16, "moov", 8), box(1000, "mdat", 16)), boxLayout{ISO: true, Moov: 16, Mdat: 32, Truncated: true}, true},
		{"moov cut short", cat(ftyp, box(24, "mdat", 16), box(500, "moov", 8)), boxLayout{ISO: true, Moov: 40, Mdat: 16, Truncated: true}, false},
		{"header cut short", cat(ftyp, box(16, "moov", 8), []byte{0, 0, 1}), boxLayout{ISO: true, Moov: 16, Mdat: -1, Truncated: true}, true},
		{"64-bit header cut short", cat(ftyp, []byte{0, 0, 0, 1, 'm', 'd', 'a', 't', 0}), boxLayout{ISO: true, Moov: -1, Mdat: -1, Truncated: true}, false},
		{"text", []byte("These are my notes, not a video."), boxLayout{Moov: -1, Mdat: -1}, false},
		{"tiny", []byte("abc"), boxLayout{Moov: -1, Mdat: -1}, false},
		{"empty", nil, boxLayout{Moov: -1, Mdat: -1}, false},
		{"corrupt size stops the walk", cat(ftyp, box(4, "moov", 8)), boxLayout{ISO: true, Moov: -1, Mdat: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := scanBoxes(bytes.NewReader(tt.data), int64(len(tt.data)))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("scanBoxes = %+v, want %+v", got, tt.want)
			}
			if got.FastStart() != tt.fast {
				t.Errorf("FastStart = %v, want %v", got.FastStart(), tt.fast)
			}
		})
	}
}

func FuzzScanBoxes(f *testing.F) {
	f.Add(cat(box(16, "ftyp", 8), box(16, "moov", 8), box(0, "mdat", 4)))
	f.Add(cat(box(16, "ftyp", 8), largeBox(1<<63, "mdat", 0)))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := scanBoxes(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		if l.Moov >= int64(len(data)) || l.Mdat >= int64(len(data)) {
			t.Errorf("offsets beyond the data: %+v for %d bytes", l, len(data))
		}
		if !l.ISO && (l.Moov >= 0 || l.Mdat >= 0 || l.Truncated) {
			t.Errorf("non-ISO layout with boxes: %+v", l)
		}
	})
}
