package deltaclient

import (
	"bytes"
	"io"
	"testing"
	"testing/iotest"
)

// readFull, which maps a buffer's pages a step at a time, keeps
// io.ReadFull's contract across the steps: every byte in order, EOF for
// nothing read, ErrUnexpectedEOF for a short body, whatever sizes the
// reads come in.
func TestReadFullAcrossPrefaultSteps(t *testing.T) {
	data := make([]byte, 2*prefaultStep+prefaultStep/2)
	for i := range data {
		data[i] = byte(i * 7)
	}
	for _, tc := range []struct {
		name    string
		body    []byte
		size    int
		wantN   int
		wantErr error
	}{
		{"exact", data, len(data), len(data), nil},
		{"short", data, len(data) + prefaultStep, len(data), io.ErrUnexpectedEOF},
		{"short at a step", data[:2*prefaultStep], 3 * prefaultStep, 2 * prefaultStep, io.ErrUnexpectedEOF},
		{"empty", nil, prefaultStep, 0, io.EOF},
		{"longer than the buffer", data, prefaultStep + 1, prefaultStep + 1, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := make([]byte, tc.size)
			n, err := readFull(iotest.HalfReader(bytes.NewReader(tc.body)), b, len(b))
			if n != tc.wantN || err != tc.wantErr {
				t.Fatalf("readFull = %d, %v; want %d, %v", n, err, tc.wantN, tc.wantErr)
			}
			if !bytes.Equal(b[:n], tc.body[:n]) {
				t.Fatalf("bytes differ from the body")
			}
		})
	}
}
