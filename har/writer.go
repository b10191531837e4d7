package har

import (
	"bytes"
	"encoding/json"
	"io"
	"sync"
)

// Writer appends entries to a HAR file as they complete, so that the file
// is a valid HAR document after every entry, not only after a clean exit.
//
// How: the file always ends with the closing "\n]}}\n". Each entry is
// encoded on one line and written with a single WriteAt at the offset of
// that closing text, as ",\n{entry}\n]}}\n": the write replaces the old
// ending with the entry and a new ending. Between writes the file is
// complete HAR, so an interrupt, an error exit or a kill -9 loses at most
// the exchange in flight. Should a kill land inside the write of a large
// entry, the file ends in a partial line: Read (and so replay) drops it,
// and any tool reads the file again once that last line is replaced by
// "]}}".
type Writer struct {
	mu    sync.Mutex
	w     io.WriterAt
	end   int64 // where the closing text starts
	n     int
	err   error
	buf   bytes.Buffer
	close func() error
}

const closing = "\n]}}\n"

// NewWriter starts a HAR document on w (an *os.File, truncated) with the
// creator and the session it records.
func NewWriter(w io.WriterAt, creator Creator, session *Session) (*Writer, error) {
	head, err := json.Marshal(struct {
		Version string   `json:"version"`
		Creator Creator  `json:"creator"`
		Session *Session `json:"_deltascope,omitempty"`
	}{"1.2", creator, session})
	if err != nil {
		return nil, err
	}
	// {"log":{...head fields...,"entries":[ ...
	start := append([]byte(`{"log":`), head[:len(head)-1]...)
	start = append(start, `,"entries":[`...)
	hw := &Writer{w: w, end: int64(len(start))}
	if _, err := w.WriteAt(append(start, closing...), 0); err != nil {
		return nil, err
	}
	return hw, nil
}

// Add writes one entry. After the first error it writes nothing more and
// returns that error again.
func (w *Writer) Add(e *Entry) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	w.buf.Reset()
	if w.n > 0 {
		w.buf.WriteByte(',')
	}
	w.buf.WriteByte('\n')
	enc := json.NewEncoder(&w.buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return err
	}
	w.buf.Truncate(w.buf.Len() - 1) // Encode's newline: the closing text starts with one
	entryLen := int64(w.buf.Len())
	w.buf.WriteString(closing)
	if _, err := w.w.WriteAt(w.buf.Bytes(), w.end); err != nil {
		w.err = err
		return w.err
	}
	w.end += entryLen
	w.n++
	return nil
}

// Entries is how many entries were written.
func (w *Writer) Entries() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

// Err is the first write error, if any.
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}
